"""The demo city generator and its build output (data/build/, git-ignored)."""
