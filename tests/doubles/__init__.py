"""Test doubles of control planes that cannot run on these machines. Each speaks the real
protocol and says in its docstring what it stands in for; what runs behind it is real."""
