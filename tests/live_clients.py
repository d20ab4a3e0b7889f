"""Subscribe with gql (Python, websockets transport, graphql-transport-ws) and print each result as a JSON line.

    python tests/live_clients.py GRAPHQL_URL COUNT QUERY [VARIABLES_JSON]

Run as a subprocess by tests/test_live_clients.py, like the Node clients in tests/clients/live.mjs.
"""

from __future__ import annotations

import asyncio
import json
import sys

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport


async def follow(url: str, count: int, query: str, variables: dict | None) -> None:
    transport = WebsocketsTransport(
        url=url.replace("http", "ws", 1), subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    async with Client(transport=transport) as session:
        async for result in session.subscribe(GraphQLRequest(query, variable_values=variables)):
            print(json.dumps({"data": result}), flush=True)
            count -= 1
            if count <= 0:
                return


if __name__ == "__main__":
    url, count, query = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    asyncio.run(follow(url, count, query, json.loads(sys.argv[4]) if len(sys.argv) > 4 else None))
