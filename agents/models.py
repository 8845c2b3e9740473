"""Model access for the planner, the coder and the council seats, through LiteLLM.

Configured in the lab's `autodocket.toml` (keys go in environment variables, never in the file):

    [models]
    budget_usd = 5.0      # spend cap for one run (`run --budget-usd` overrides it)
    timeout_s = 180       # per request
    retries = 3           # per model, on 429, 5xx, timeouts and dropped connections
    backoff_s = 2         # first wait; doubles each retry (a Retry-After header wins if longer)

    [models.planner]
    model = "hosted_vllm/deepseek-r1"
    api_base = "http://127.0.0.1:8000/v1"
    input_cost_per_token = 0
    output_cost_per_token = 0
    fallbacks = [{ model = "openai/gpt-4o", api_key_env = "OPENAI_API_KEY" }]

    [models.coder]        # same keys as the planner
    [[models.council]]    # one table per seat; `name` is how dissent is reported
    name = "claude"
    model = "anthropic/claude-sonnet-4-5"

A role that is not configured, or none of whose models is reachable at the start of a run, uses
the offline backend. Every request is recorded (model, tokens, cost, seconds, outcome) so that the
evidence can say what the answer cost. Answers are parsed strictly by the caller's `parse`; a
malformed answer is sent back once with the parse error, then counted as a failed attempt.
"""
from __future__ import annotations

import ast
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Callable, TypeVar
from urllib.parse import urlparse

from agents.config import ConfigError

T = TypeVar("T")
PROMPTS = Path(__file__).parent / "prompts"
SPEC_KEYS = {"model", "api_base", "api_key_env", "timeout_s", "retries", "input_cost_per_token",
             "output_cost_per_token", "max_tokens", "temperature", "name", "fallbacks"}


class AnswerError(ValueError):
    """A model answer that does not have the required form (the message says what is wrong)."""


class ModelFailure(RuntimeError):
    """No usable answer: every model of the role failed, or the answer stayed malformed."""

    def __init__(self, message: str, calls: list[dict]):
        super().__init__(message)
        self.calls = calls


class SpendCapReached(RuntimeError):
    """The run's spend cap is used up; the run stops and the task resumes on the next run."""


@dataclass(frozen=True)
class ModelSpec:
    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    timeout_s: float = 180.0
    retries: int = 3
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    max_tokens: int | None = None
    temperature: float | None = None

    def reachable(self) -> tuple[bool, str]:
        """Cheap check made once per run: a TCP connect to a local server, or the provider's
        key in the environment for a hosted one. Costs nothing and sends no prompt."""
        if self.api_base:
            url = urlparse(self.api_base)
            port = url.port or (443 if url.scheme == "https" else 80)
            try:
                socket.create_connection((url.hostname, port), timeout=2).close()
                return True, ""
            except OSError as err:
                return False, f"{self.model}: {self.api_base} unreachable ({err.strerror or err})"
        if self.api_key_env:
            ok = bool(os.environ.get(self.api_key_env))
            return ok, "" if ok else f"{self.model}: ${self.api_key_env} is not set"
        litellm = _litellm()
        check = litellm.validate_environment(model=self.model)
        missing = ", ".join(check.get("missing_keys") or [])
        return bool(check.get("keys_in_environment")), f"{self.model}: missing {missing}"


@dataclass(frozen=True)
class Role:
    name: str
    chain: tuple[ModelSpec, ...]  # the model, then its fallbacks in order


@dataclass
class ModelsConfig:
    planner: Role | None = None
    coder: Role | None = None
    council: tuple[Role, ...] = ()
    budget_usd: float | None = None
    backoff_s: float = 2.0

    def roles(self) -> dict[str, Role | tuple[Role, ...] | None]:
        return {"planner": self.planner, "coder": self.coder, "council": self.council}


def _spec(raw: dict, defaults: dict, where: str) -> ModelSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), str):
        raise ConfigError(f"autodocket.toml: {where} needs model = \"provider/name\"")
    if "api_key" in raw:
        raise ConfigError(f"autodocket.toml: {where}: put keys in the environment (api_key_env)")
    unknown = set(raw) - SPEC_KEYS
    if unknown:
        raise ConfigError(f"autodocket.toml: {where}: unknown key(s) {', '.join(sorted(unknown))}")
    merged = {k: v for k, v in {**defaults, **raw}.items() if k in ModelSpec.__dataclass_fields__}
    return ModelSpec(**merged)


def _role(raw: dict, defaults: dict, name: str) -> Role:
    chain = [_spec(raw, defaults, name)]
    for i, fb in enumerate(raw.get("fallbacks", [])):
        fb = {"model": fb} if isinstance(fb, str) else fb
        chain.append(_spec(fb, defaults, f"{name} fallback {i + 1}"))
    return Role(raw.get("name", name), tuple(chain))


def load_models(config: dict) -> ModelsConfig:
    section = config.get("models") or {}
    defaults = {k: section[k] for k in ("timeout_s", "retries") if k in section}
    council = section.get("council", [])
    if not isinstance(council, list):
        raise ConfigError("autodocket.toml: [[models.council]] is a list of seats")
    return ModelsConfig(
        planner=_role(section["planner"], defaults, "planner") if "planner" in section else None,
        coder=_role(section["coder"], defaults, "coder") if "coder" in section else None,
        council=tuple(_role(seat, defaults, f"seat-{i + 1}") for i, seat in enumerate(council)),
        budget_usd=section.get("budget_usd"), backoff_s=float(section.get("backoff_s", 2.0)))


def choose_backends(models: ModelsConfig) -> tuple[dict[str, str], list[str]]:
    """Which roles use models this run ("models" or "offline"), and one line per reason."""
    backends, notes = {}, []
    for role_name, role in models.roles().items():
        seats = role if isinstance(role, tuple) else ((role,) if role else ())
        down = {}
        for seat in seats:
            checks = [spec.reachable() for spec in seat.chain]
            if not any(ok for ok, _ in checks):
                down[seat.name] = "; ".join(why for _, why in checks)
        if not seats or len(down) == len(seats):
            backends[role_name] = "offline"
            notes.append(f"{role_name}: " + ("no model configured" if not seats else
                         "no model reachable (" + "; ".join(down.values()) + ")") + ", offline")
        else:
            backends[role_name] = "models"
            notes += [f"{role_name}: seat {name} unreachable ({why}); it will abstain"
                      for name, why in down.items()]
    return backends, notes


# spend ----------------------------------------------------------------------------------------
@dataclass
class Ledger:
    """What this run has spent. One per process: a run is one process."""
    cap_usd: float | None = None
    spent_usd: float = 0.0
    unpriced_calls: int = 0
    calls: list[dict] = field(default_factory=list)

    def check(self) -> None:
        if self.cap_usd is not None and self.spent_usd >= self.cap_usd:
            raise SpendCapReached(f"spend cap ${self.cap_usd:g} reached "
                                  f"(${self.spent_usd:.4f} spent this run)")

    def charge(self, call: dict) -> None:
        self.calls.append(call)
        if call.get("cost_usd") is None:
            self.unpriced_calls += call["outcome"] == "answered"
        else:
            self.spent_usd += call["cost_usd"]


LEDGER = Ledger()


def start_run(cap_usd: float | None) -> Ledger:
    global LEDGER
    LEDGER = Ledger(cap_usd)
    return LEDGER


# calls ----------------------------------------------------------------------------------------
def _litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map download
    import litellm
    litellm.suppress_debug_info = True
    return litellm


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


def strip_reasoning(content: str) -> str:
    """R1-style models think inline: drop `<think>` blocks, and everything before a stray
    closing tag (servers that strip the opening one)."""
    content = _THINK.sub("", content or "")
    if "</think>" in content:
        content = content.rsplit("</think>", 1)[1]
    return content.strip()


def _retry_after(err) -> float:
    headers = getattr(getattr(err, "response", None), "headers", None) or {}
    try:
        return float(headers.get("retry-after", 0))
    except (TypeError, ValueError):
        return 0.0


def _transient(err, litellm) -> bool:
    return isinstance(err, (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError,
                            litellm.InternalServerError, litellm.ServiceUnavailableError,
                            litellm.BadGatewayError))


def ask(role: Role, prompt: str, parse: Callable[[str], T], *, backoff_s: float = 2.0,
        ledger: Ledger | None = None) -> tuple[T, list[dict]]:
    """One answer from the role, parsed. Transient errors are retried with backoff on the same
    model, other errors move to the next fallback; a malformed answer is sent back once with
    the parse error. Returns (parsed answer, call records); raises ModelFailure with the calls."""
    litellm = _litellm()
    ledger = ledger or LEDGER
    calls: list[dict] = []
    failures: list[str] = []
    for spec in role.chain:
        messages = [{"role": "user", "content": prompt}]
        resent, tries = False, 0
        while True:
            ledger.check()
            kwargs = {k: v for k, v in {
                "api_base": spec.api_base, "max_tokens": spec.max_tokens,
                "temperature": spec.temperature, "input_cost_per_token": spec.input_cost_per_token,
                "output_cost_per_token": spec.output_cost_per_token,
                "api_key": os.environ.get(spec.api_key_env) if spec.api_key_env else
                ("none" if spec.api_base else None)}.items() if v is not None}
            started = time.monotonic()
            call = {"role": role.name, "model": spec.model, "prompt_tokens": 0,
                    "completion_tokens": 0, "cost_usd": 0.0}
            try:
                response = litellm.completion(model=spec.model, messages=messages,
                                              timeout=spec.timeout_s, num_retries=0, **kwargs)
            except Exception as err:  # noqa: BLE001 - every failure is recorded, then sorted
                transient = _transient(err, litellm)
                call.update(outcome=f"error {getattr(err, 'status_code', '')} "
                            f"{type(err).__name__}".replace("  ", " "),
                            seconds=round(time.monotonic() - started, 3),
                            detail=str(err).splitlines()[0][:200] if str(err) else "")
                calls.append(call)
                ledger.charge(call)
                tries += 1
                if transient and tries <= spec.retries:
                    time.sleep(max(_retry_after(err), backoff_s * 2 ** (tries - 1)))
                    continue
                failures.append(f"{spec.model}: {call['outcome']}")
                break
            message = response.choices[0].message
            usage = getattr(response, "usage", None)
            content = message.content or ""
            reasoning = getattr(message, "reasoning_content", None) or ""
            call.update(outcome="answered", seconds=round(time.monotonic() - started, 3),
                        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                        cost_usd=(response._hidden_params or {}).get("response_cost"),
                        reasoning_chars=len(reasoning) + len(content) -
                        len(strip_reasoning(content)))
            calls.append(call)
            ledger.charge(call)
            try:
                return parse(strip_reasoning(content)), calls
            except AnswerError as err:
                call["outcome"] = f"malformed: {err}"[:200]
                if resent:
                    raise ModelFailure(f"{role.name}: answer unusable twice: {err}",
                                       calls) from None
                resent = True
                messages += [{"role": "assistant", "content": content},
                             {"role": "user", "content": f"Your answer could not be used: {err}\n"
                              "Answer again, in exactly the format asked for."}]
    raise ModelFailure(f"{role.name}: no model answered ({'; '.join(failures)})", calls)


def prompt(name: str, **values) -> str:
    """A prompt from agents/prompts/<name>.md with $placeholders filled."""
    return Template((PROMPTS / f"{name}.md").read_text(encoding="utf-8")).substitute(values)


def usage_summary(calls: list[dict]) -> dict:
    priced = [c["cost_usd"] for c in calls if c.get("cost_usd") is not None]
    return {"calls": calls, "requests": len(calls),
            "tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls),
            "cost_usd": round(sum(priced), 6),
            "unpriced": sum(c.get("cost_usd") is None for c in calls)}


# strict answer formats ------------------------------------------------------------------------
_FENCE = re.compile(r"^```[ \t]*([\w+-]*)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced block."""
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]


def one_block(text: str, languages: tuple[str, ...]) -> tuple[str, str]:
    blocks = code_blocks(text)
    if len(blocks) != 1:
        raise AnswerError(f"expected exactly one fenced code block, found {len(blocks)}")
    lang, body = blocks[0]
    if lang not in languages:
        raise AnswerError(f"the code block must be tagged {' or '.join(languages)}, not "
                          f"{lang or 'untagged'}")
    return lang, body


def json_object(text: str) -> dict:
    """A JSON object: the answer's one ```json block, or the whole answer."""
    import json
    blocks = code_blocks(text)
    raw = one_block(text, ("json",))[1] if blocks else text
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise AnswerError(f"not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise AnswerError("expected a JSON object")
    return value


def python_file(body: str, what: str, defines: set[str]) -> ast.Module:
    """The answer's Python file, parsed, defining (top level) every name in `defines`."""
    try:
        tree = ast.parse(body)
    except SyntaxError as err:
        raise AnswerError(f"{what} does not parse: line {err.lineno}: {err.msg}") from None
    names = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    missing = defines - names
    if missing:
        raise AnswerError(f"{what} lacks {', '.join(sorted(missing))}")
    return tree
