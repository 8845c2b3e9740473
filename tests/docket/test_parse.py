"""What the parser reads out of the lab's real dockets."""
from collections import Counter

import docket
from conftest import FIXTURES


def load(name):
    return docket.load(FIXTURES / name)


def test_lab_a_sections_and_next():
    d = load("docket-lucca-lab-a.md")
    pending = [t for t in d.tasks if t.section == "Pending Tasks"]
    assert len(pending) == 10
    assert Counter(t.checked for t in pending) == {True: 9, False: 1}
    completed = [t for t in d.tasks if t.section == "Completed Tasks"]
    assert len(completed) == 69 and all(t.checked for t in completed)
    nxt = d.next_task()
    assert nxt.title == "Quantized-Logic Reasoning Benchmarks"
    assert nxt.id == "quantized-logic-reasoning-benchmarks"
    assert nxt.description.startswith("Develop a specialized benchmark")
    assert d.duplicates == [] and d.warnings == []


def test_lab_a_plain_items_split_title_at_top_level_colon():
    d = load("docket-lucca-lab-a.md")
    by_title = {t.title: t for t in d.tasks}
    chaining = by_title["Implement Model Chaining"]
    assert chaining.description == "Llama-3-Vision -> OCR -> R1 Reasoning."
    # the colon inside the parentheses is not the title's end
    assert "Implement Speculative Decoding via FP8 (Draft: R1-1.5B, Target: R1-8B)" in by_title
    assert "Create Spatial Reasoning Loop (Qwen2-VL frames -> DeepSeek-R1 analysis)" in by_title


def test_lab_b_next_dates_and_duplicates():
    d = load("docket-lucca-lab-b.md")
    assert d.next_task().title == "Hardware-Aware Neural-Symbolic Synthesis for sm_120 (v2)"
    jit = next(t for t in d.tasks if t.title == "Self-Correcting CUDA JIT Compiler for sm_120")
    assert jit.date == "2026-02-14" and jit.checked and jit.section == "Completed Tasks"
    first = d.tasks[0]
    assert first.section == "High-Level Goals" and first.date == "2026-02-17"
    assert first.line == 8 and first.end_line == 8
    groups = d.duplicates
    assert ["adaptive-speculative-kernels-for-hybrid-precision-inference",
            "adaptive-speculative-kernels-for-hybrid-precision-inference-2"] in groups
    dup = d.task("adaptive-speculative-kernels-for-hybrid-precision-inference-2")
    assert dup.duplicate_of == "adaptive-speculative-kernels-for-hybrid-precision-inference"
    assert len({t.id for t in d.tasks}) == len(d.tasks)
    # the same title with a date inside the bold is still the same task title
    assert ["latent-space-logic-distillation-for-small-lms",
            "latent-space-logic-distillation-for-small-lms-2"] in groups


def test_plan_table_rows_are_tasks_with_criteria():
    d = load("plan-algorithm-gaps.md")
    rows = [t for t in d.tasks if t.kind == "table"]
    assert [t.ref for t in rows[:4]] == ["S-1", "S-2", "S-3", "S-4"]
    s2 = d.task("s-2-flashattention-3-kernel")
    assert s2.title == "FlashAttention-3 kernel"
    assert s2.criterion.startswith("≥90 % GPU util.")
    assert s2.description.startswith("Exact soft-max attention")
    assert not s2.checked
    assert d.next_task().ref == "S-1"
    assert d.next_task(done={rows[0].id}).ref == "S-2"


def test_sub_items_nesting_and_code_fences():
    text = (
        "# Docket\n## Pending Tasks\n"
        "- [ ] **Fuse softmax**: one pass (2026-03-01)\n"
        "  - result: 1.6x vs eager\n"
        "  - [x] write the reference\n"
        "    more about the reference\n"
        "\n"
        "```markdown\n- [ ] not a task, it is in a fence\n```\n"
        "<!--\n- [ ] commented out\n-->\n"
        "1. [X] Numbered item: upper-case X\n"
        "* [ ] star item\n"
        "\t- [ ] tab-indented: nested under the star item\n"
        "## Later\n"
        "\t- [ ] tab-indented top item\n"
    )
    d = docket.parse(text)
    assert [t.title for t in d.tasks] == ["Fuse softmax", "Numbered item", "star item",
                                          "tab-indented top item"]
    fuse = d.tasks[0]
    assert fuse.date == "2026-03-01" and fuse.description == "one pass"
    assert [(s.line, s.text, s.checked) for s in fuse.sub_items] == [
        (4, "result: 1.6x vs eager", None), (5, "write the reference", True)]
    assert fuse.evidence == ["1.6x vs eager"]
    assert (fuse.line, fuse.end_line) == (3, 6)
    assert d.tasks[1].checked
    assert d.tasks[2].sub_items[0].text == "tab-indented: nested under the star item"
    assert d.tasks[3].section == "Later"
    assert d.render() == text


def test_lazy_continuation_and_links_are_not_checkboxes():
    text = "- [ ] Long task: first line\ncontinued here\n\n- [link](http://x) is a link\n"
    d = docket.parse(text)
    assert len(d.tasks) == 1
    assert d.tasks[0].description == "first line continued here"
    assert d.tasks[0].end_line == 2


def test_slug_ids_are_branch_safe():
    assert docket.slugify("Recursive Symbolic Refinement (v2)") == "recursive-symbolic-refinement-v2"
    assert docket.slugify("Über-fast  FP8 → INT4!") == "uber-fast-fp8-int4"
    assert docket.slugify("¿?") == "task"
    assert len(docket.slugify("word " * 100)) <= 80
