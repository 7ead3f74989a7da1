"""Placet inside other frameworks: each module imports its framework only when used.

* ``placet.integrations.langgraph``: LangGraph interrupts as review items, and
  graphs resumed with the decisions (``pip install langgraph``).
"""
