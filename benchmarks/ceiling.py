"""The ceiling: a bare Starlette route answering fixed bytes (python -m benchmarks.ceiling FILE PORT)."""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAYLOAD = b""


async def answer(request: Request) -> Response:
    await request.body()
    return Response(PAYLOAD, media_type="application/json")


app = Starlette(routes=[Route("/graphql", answer, methods=["GET", "POST"]), Route("/", answer)])

if __name__ == "__main__":
    PAYLOAD = open(sys.argv[1], "rb").read()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
