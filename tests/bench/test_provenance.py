"""A measurement names the code it came from, also from a copied tree whose .git lags."""
from git import Repo

import benchmarks.provenance as provenance


def test_a_lagging_copy_names_the_tree_of_the_commit_that_holds_its_files(tmp_path,
                                                                           monkeypatch):
    repo = Repo.init(tmp_path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "t").set_value("user", "email", "t@example.invalid")
    (tmp_path / "kernel.py").write_text("v1\n")
    repo.index.add(["kernel.py"])
    first = repo.index.commit("first").hexsha
    monkeypatch.setattr(provenance, "ROOT", tmp_path)
    assert provenance.commit() == first
    (tmp_path / "kernel.py").write_text("v2\n")  # the copy: the next commit's files
    said = provenance.commit()
    repo.index.add(["kernel.py"])
    second = repo.index.commit("second")
    assert said == f"{first} + uncommitted changes (tree {second.tree.hexsha})"
    assert not repo.git.stash("list")  # naming the tree stored nothing
