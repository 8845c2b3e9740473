"""The CLI, lab configuration, and (next) the LangGraph loop with its planner, coder and council."""
