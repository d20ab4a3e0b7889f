"""Execution: price (limits), validate and run an operation (executor), the compiled plan and each field's batch function."""
