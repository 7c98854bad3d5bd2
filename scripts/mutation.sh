#!/usr/bin/env bash
# Mutation testing of the rules (run by hand, not in CI; see the README for how long it takes): mutmut changes the code one
# small fault at a time and runs the tests that reach it; a mutant the tests do not notice is a gap in them.
# What is mutated and which tests run are set in pyproject.toml's [tool.mutmut]; the per-module table and every
# survivor not accounted for in bench/mutation_accepted/ are printed at the end.
#   bash scripts/mutation.sh                      everything configured
#   bash scripts/mutation.sh 'service.core.workflow*'   one module's mutants (names as `mutmut results` prints)
set -euo pipefail
cd "$(dirname "$0")/.."

# Its own environment: mutmut 3.8 reads a pytest internal that pytest 9.2 removed, so pytest stays below 9.2 here.
python3 -m venv .venv-mutation
.venv-mutation/bin/pip install --quiet --disable-pip-version-check -e '.[test,mutation]'

# Property tests run once per mutant: fewer, repeatable examples (tests/conftest.py's "mutation" profile).
export HYPOTHESIS_PROFILE=mutation
started=$(date +%s)
echo "mutmut's progress goes to mutants-run.log (the full configuration takes most of an hour)"
.venv-mutation/bin/mutmut run "$@" | tr '\r' '\n' > mutants-run.log; tail -n 4 mutants-run.log
echo "mutmut ran for $(( $(date +%s) - started )) s"
.venv-mutation/bin/python -m bench.mutation
