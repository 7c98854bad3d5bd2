"""The actions on a real database in a temporary folder, without the web layer: fast enough to run once per mutant."""
