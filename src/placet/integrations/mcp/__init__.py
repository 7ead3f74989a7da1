"""Placet over the Model Context Protocol: ``placet mcp`` (``pip install 'placet[mcp]'``).

The rooms: ``desk`` (the Placet side: an agent's call or question as a task,
reading, waiting, a person's answer as a decision; the engine only),
``views`` (what the agent is told: an explicit status, arguments only when
approved), ``in_place`` (the form a person at the client answers, and what
it means), ``identity`` (who calls: the local user over stdio, a Placet API
token's account over HTTP), ``server`` (the MCP tools and resources on the
official SDK's ``MCPServer``, asking in place on both protocol eras) and
``serve`` (stdio, or streamable HTTP on a socket already listening).
"""
