"""The lab page (`autodocket serve`): the agents' pull requests with their reports, charts, code
and diffs, and Approve / Reject; the docket with each task's status; the knowledge graph; the
workers' progress, live.

A Starlette app over the same lab state the CLI reads (agents.lab_view, agents.loop's
approve/reject, the knowledge graph). Pages are rendered on the server (Jinja2 templates in
agents/web_templates, Pygments for code, markdown-it for reports); the only script polls the
workers. Every state-changing request carries the session's form token (made at start, shown
only inside the pages' forms): a page elsewhere cannot post here on the researcher's behalf.
Served beyond loopback, every request also needs the `--token` the server was started with.
"""
from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from agents.config import ConfigError, find_lab

TEMPLATES = Path(__file__).parent / "web_templates"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ACCESS_COOKIE = "autodocket_access"


def highlighted(source: str, language: str) -> Markup:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    return Markup(highlight(source, get_lexer_by_name(language), HtmlFormatter(nowrap=False)))


def markdown(text: str) -> Markup:
    from markdown_it import MarkdownIt
    return Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


def _environment() -> Environment:
    from pygments.formatters import HtmlFormatter
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    env.globals["pygments_css"] = Markup(HtmlFormatter().get_style_defs(".highlight"))
    env.filters["x"] = lambda v: f"{v:.2f}x" if isinstance(v, (int, float)) else "-"
    env.filters["q"] = lambda v: quote(str(v), safe="")
    return env


class _AccessToken(BaseHTTPMiddleware):
    """Beyond loopback: the server's --token, once as ?token=, then as a cookie."""

    def __init__(self, app, token: str):
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next):
        given = request.query_params.get("token") or request.cookies.get(ACCESS_COOKIE) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return Response("autodocket: this lab page needs its access token (?token=...)\n",
                            status_code=401, media_type="text/plain")
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(ACCESS_COOKIE, self.token, httponly=True, samesite="strict")
        return response


def create_app(docket: Path | None = None, token: str | None = None) -> Starlette:
    """The app for the lab holding `docket` (found as the CLI finds it)."""
    # imported at start, not on the first page shown (the scoreboard brings in the graph)
    import agents.lab_view  # noqa: F401
    import agents.scoreboard  # noqa: F401
    lab = find_lab(docket)
    env = _environment()
    for name in env.list_templates():  # compiled now, not on the first page shown
        env.get_template(name)
    form_token = secrets.token_urlsafe(32)

    def page(name: str, request: Request, status: int = 200, **context) -> HTMLResponse:
        html = env.get_template(name).render(request=request, lab=lab, form_token=form_token,
                                             message=request.query_params.get("msg"),
                                             error=request.query_params.get("err"), **context)
        return HTMLResponse(html, status_code=status)

    async def checked_form(request: Request) -> dict | Response:
        form = dict(await request.form())
        if not hmac.compare_digest(str(form.get("form_token", "")).encode(), form_token.encode()):
            return Response("autodocket: refused: the request does not carry this page's form "
                            "token\n", status_code=403, media_type="text/plain")
        return form

    def prs(request: Request) -> HTMLResponse:
        from agents.lab_view import pull_requests
        return page("prs.html", request, rows=pull_requests(lab), active="prs")

    def pr(request: Request) -> HTMLResponse:
        from agents.lab_view import agent_head, blob, branch_evidence, diff_against_main
        task_id = request.path_params["task_id"]
        head = agent_head(lab, task_id)
        if head is None:
            return page("missing.html", request, status=404, what=f"pull request {task_id}")
        ev = branch_evidence(lab, head.hexsha, task_id)
        rid = f"{head.hexsha}:results/{task_id}"

        def text(name: str) -> str:
            return (blob(lab, f"{rid}/{name}") or b"").decode("utf-8", "replace")
        calls = (ev.get("model_calls") or {}).get("calls") or []
        report = text("REPORT.md")
        return page("pr.html", request, task_id=task_id, ev=ev, head=head, active="prs",
                    report=markdown(report) if report else None,
                    has_chart=blob(lab, f"{rid}/speedup.png") is not None,
                    problem=highlighted(text("problem.py"), "python"),
                    kernel=highlighted(text("kernel.py"), "python"),
                    diff=highlighted(diff_against_main(lab, task_id), "diff"),
                    reviews=(ev.get("council") or {}).get("reviews") or [],
                    consensus=(ev.get("council") or {}).get("consensus") or {}, calls=calls,
                    usage=ev.get("model_calls") or {})

    def chart(request: Request) -> Response:
        from agents.lab_view import blob
        from tools.git import branch_name
        task_id = request.path_params["task_id"]
        try:
            data = blob(lab, f"{branch_name(task_id)}:results/{task_id}/speedup.png")
        except ValueError:
            data = None
        if data is None:
            return Response("no chart\n", status_code=404, media_type="text/plain")
        return Response(data, media_type="image/png")

    async def decide(request: Request) -> Response:
        from agents.loop import DecisionError, approve, reject
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        task_id, action = request.path_params["task_id"], request.path_params["action"]
        if action not in ("approve", "reject"):
            return Response("not found\n", status_code=404, media_type="text/plain")
        try:  # approving verifies again (seconds): off the event loop, the page stays live
            if action == "approve":
                done = f"approved {task_id}: {await run_in_threadpool(approve, lab, task_id)}"
            else:
                reason = str(form.get("reason", "")).strip()
                if not reason:
                    raise DecisionError("a rejection needs a reason (it goes back to the coder)")
                outcome = await run_in_threadpool(reject, lab, task_id, reason, "park" in form)
                done = f"rejected {task_id}: {outcome}"
        except (DecisionError, ValueError) as err:
            return RedirectResponse(f"/prs/{quote(task_id)}/?err={quote(str(err))}", 303)
        return RedirectResponse(f"/prs?msg={quote(done)}", 303)

    def docket_page(request: Request) -> HTMLResponse:
        import docket as docket_mod
        from agents.lab_view import agent_heads, status_of, statuses
        from agents.scoreboard import rows as scoreboard_rows
        from docket.audit import audit
        try:
            d = docket_mod.load(lab.docket_path)
        except docket_mod.DocketError as err:  # shown, and the file is left as it is
            return page("docket.html", request, status=422, docket_error=str(err), tasks=[],
                        active="docket")
        states = statuses(lab)
        heads, main_commit = agent_heads(lab)
        unbacked = {e.task_id: [c.text for c in e.claims if not c.backed]
                    for e in audit(d, lab.root)}
        tasks = [{"task": t, "status": status_of(t, states, lab),
                  "reason": states[t.id].reason if t.id in states else None,
                  "unbacked": unbacked.get(t.id, [])} for t in d.tasks]
        return page("docket.html", request, tasks=tasks, docket_error=None, active="docket",
                    scoreboard=scoreboard_rows(lab, d, heads), warnings=d.warnings,
                    main_commit=main_commit)

    def kg(request: Request) -> HTMLResponse:
        from memory.kg import KGError
        query = request.query_params.get("q", "").strip()
        as_of = request.query_params.get("as_of", "").strip() or None
        hits, problem = [], None
        if query:
            try:
                hits = lab.knowledge().query(query, as_of=as_of, limit=50)
            except KGError as err:
                problem = str(err)
        return page("kg.html", request, query=query, as_of=as_of or "", hits=hits,
                    problem=problem, active="kg")

    def entity(request: Request) -> HTMLResponse:
        from memory.kg import KGError
        try:
            doc = lab.knowledge().show(request.path_params["name"])
        except KGError as err:
            return page("missing.html", request, status=404, what=str(err))
        return page("entity.html", request, doc=doc, active="kg")

    def file_at(request: Request) -> HTMLResponse:
        """A file of the lab at a commit (a fact's provenance: the evidence it came from)."""
        from agents.lab_view import blob
        commit, path = request.path_params["commit"], request.path_params["path"]
        data = blob(lab, f"{commit}:{path}") if all(c in "0123456789abcdef" for c in commit) \
            else None
        if data is None:
            return page("missing.html", request, status=404, what=f"{path} at {commit[:12]}")
        language = {"json": "json", "py": "python", "md": "markdown"}.get(
            path.rsplit(".", 1)[-1], "text")
        return page("file.html", request, path=path, commit=commit, active="kg",
                    body=highlighted(data.decode("utf-8", "replace"), language))

    def workers(request: Request) -> JSONResponse:
        from memory.db import make_engine
        from memory.leases import Leases
        if not lab.has_database():
            return JSONResponse([])
        return JSONResponse(Leases(make_engine(lab.database_url), lab.docket_key).workers())

    routes = [Route("/", lambda r: RedirectResponse("/prs", 307)),
              Route("/prs", prs), Route("/prs/{task_id}/", pr),
              Route("/prs/{task_id}", lambda r: RedirectResponse(
                  f"/prs/{quote(r.path_params['task_id'])}/", 307)),
              Route("/prs/{task_id}/speedup.png", chart),
              Route("/prs/{task_id}/{action:str}", decide, methods=["POST"]),
              Route("/docket", docket_page), Route("/kg", kg),
              Route("/kg/entity/{name:path}", entity),
              Route("/files/{commit}/{path:path}", file_at), Route("/workers.json", workers)]
    middleware = [Middleware(_AccessToken, token=token)] if token else []
    app = Starlette(routes=routes, middleware=middleware)
    app.state.form_token = form_token
    return app


def serve(docket: Path | None, host: str, port: int, token: str | None) -> None:
    """Run the page until interrupted. Refuses a non-loopback host without an access token."""
    import uvicorn
    if host not in LOOPBACK and not token:
        raise ConfigError(f"serving on {host} (beyond loopback) needs --token: anyone who "
                          "reaches the page could approve")
    app = create_app(docket, token)
    print(f"autodocket: lab page on http://{host}:{port}/prs" +
          ("?token=..." if token else ""), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")

