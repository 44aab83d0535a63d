"""The plan: diff Desired against Live into ordered actions and conflicts, and render it."""
