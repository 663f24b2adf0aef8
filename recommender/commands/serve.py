"""``recommender serve``: the HTTP scoring service (FastAPI on uvicorn).

``recommender serve --create-token [--tokens FILE]`` makes a bearer token, stores its sha256 hash in the
tokens file and prints the token once. ``recommender serve`` refuses to start without any token hash
(file or ``$RECOMMENDER_API_TOKENS``): every scoring call needs one.
"""

from __future__ import annotations

import argparse
import logging
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine "
                        "only; put a TLS-terminating proxy in front before exposing it)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--tokens", metavar="FILE", help="file of token hashes (default: <data home>/api_tokens, "
                        "the same folder as the store and the KB); $RECOMMENDER_API_TOKENS adds more")
    parser.add_argument("--create-token", action="store_true",
                        help="create a new bearer token, store its hash, print the token once, and exit")
    parser.add_argument("--label", default="", help="label stored beside the new token's hash (with --create-token)")
    parser.add_argument("--db", metavar="URL", help="review-store database: also accept the per-user tokens of "
                        "`recommender admin create-token` (SQLite path or URL, e.g. postgresql://...)")
    parser.add_argument("--bundle", metavar="DIR", help="model bundle directory (default: the one shipped)")
    parser.add_argument("--max-request-mb", type=float, default=64.0, help="request size limit in MB (default 64)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--allow-insecure-permissions", action="store_true",
                        help="open an SQLite store that other users can read (refused by default)")


def run(args: argparse.Namespace) -> int:
    from genomics.errors import UsageError
    from recommender.service.auth import ENV_VAR, create_token, default_tokens_file, load_token_hashes

    if args.create_token:
        token = create_token(args.tokens, label=args.label)
        where = args.tokens or default_tokens_file()
        print(token)
        print(f"token hash stored in {where}; the token is shown only now. Send it as "
              "'Authorization: Bearer <token>'.", file=sys.stderr)
        return 0
    hashes = load_token_hashes(args.tokens)
    engine = None
    if args.db:
        from recommender.store import open_database

        engine = open_database(args.db, allow_insecure_permissions=True if args.allow_insecure_permissions
                               else None)  # fail here, with a one-line message, not at the first request
    if not hashes and engine is None:
        raise UsageError("no API token configured", field="tokens",
                         fix=f"run `recommender serve --create-token` (or set {ENV_VAR}=sha256:<hex>), or give "
                             "--db with tokens from `recommender admin create-token` first")
    if args.port < 1 or args.port > 65535:
        raise UsageError(f"port {args.port} out of range", field="port", fix="use 1-65535")
    import uvicorn

    from recommender.service.app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(token_hashes=hashes, bundle=args.bundle, max_request_bytes=int(args.max_request_mb * 1024 * 1024),
                     db=engine)
    print(f"recommender service on http://{args.host}:{args.port} (OpenAPI: /docs, /openapi.json); "
          f"{len(hashes)} file/environment token(s) accepted"
          + ("; per-user tokens of the review store accepted" if engine is not None else ""), file=sys.stderr)
    # uvicorn's own access log prints query strings; ours (recommender.service.access) prints path and status only
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0
