"""Constants users import from `wren`: the `return_when` values of `wait`."""

ALL_COMPLETED = "ALL_COMPLETED"
ANY_COMPLETED = "ANY_COMPLETED"
ALWAYS = "ALWAYS"
