"""Master side of the worker wire protocols: PB, msgpack over WebSocket, in-process ("null")."""
