"""Where a killed run resumes: a node whose writes were saved before the process died, but not
the checkpoint after it, has left LangGraph's `next`; the run must still resume there (found by
the four-worker test under load: the killed task was started again from its first node)."""
import operator
import sqlite3
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from agents.loop import _resume_at


class State(TypedDict):
    ran: Annotated[list, operator.add]


class DiesBeforeCheckpointAfter(SqliteSaver):
    """Saves a node's writes, then 'dies' before the checkpoint that follows it: the one that
    first routes to `next_node`."""

    def __init__(self, conn, next_node: str):
        super().__init__(conn)
        self.next_node, self.armed = next_node, True

    def put(self, config, checkpoint, metadata, new_versions):
        if self.armed and f"branch:to:{self.next_node}" in new_versions:
            raise SystemExit("killed")
        return super().put(config, checkpoint, metadata, new_versions)


def _graph(saver):
    g = StateGraph(State)
    for name in ("select", "measure", "review"):
        g.add_node(name, lambda state, name=name: {"ran": [name]})
    g.add_edge(START, "select")
    g.add_edge("select", "measure")
    g.add_edge("measure", "review")
    g.add_edge("review", END)
    return g.compile(checkpointer=saver)


def test_a_node_whose_writes_were_saved_is_resumed_not_started_again():
    saver = DiesBeforeCheckpointAfter(sqlite3.connect(":memory:", check_same_thread=False),
                                      "review")  # measure ran, its writes saved
    graph, config = _graph(saver), {"configurable": {"thread_id": "t"}}
    with pytest.raises(SystemExit):
        for _ in graph.stream({"ran": []}, config, durability="sync"):
            pass
    snapshot = graph.get_state(config)
    assert snapshot.next == ()  # measure's writes are saved: LangGraph no longer lists it
    assert _resume_at(snapshot) == ("measure",)
    saver.armed = False
    for _ in graph.stream(None, config, durability="sync"):
        pass
    # resumed: measure's saved writes applied once, review run; nothing started again
    assert graph.get_state(config).values["ran"] == ["select", "measure", "review"]
    assert _resume_at(graph.get_state(config)) == ()  # ended


def test_nothing_to_resume_before_a_start_or_at_the_approval():
    from langgraph.types import PregelTask, StateSnapshot

    def snap(next_, tasks=()):
        return StateSnapshot({}, next_, {}, None, None, None, tasks, ())
    assert _resume_at(snap(())) == ()
    assert _resume_at(snap(("verify",))) == ("verify",)
    waiting = (PregelTask("1", "await_approval", ("__pregel_pull", "await_approval")),)
    assert _resume_at(snap(("await_approval",), waiting)) == ()
    assert _resume_at(snap((), waiting)) == ()
