"""Choosing and loading the Norwegian pipeline: order, pins, the embedded default, doctor."""

from __future__ import annotations

import subprocess
import sys

import pytest

import rta.nlp as nlp_mod
from rta.errors import RtaError
from rta.nlp import choose_pipeline, load_from, load_pipeline
from test_suggest_support import cli, make_project


@pytest.fixture(scope="session")
def embedded():
    return load_pipeline("embedded")


@pytest.fixture
def tiny_pipeline(tmp_path):
    """A spaCy pipeline folder with meta.json, like the bundled nb_rta once trained."""
    import spacy

    nlp = spacy.blank("nb")
    nlp.meta["name"] = "tiny"
    nlp.meta["version"] = "9.9.9"
    nlp.meta["performance"] = {"lemma_acc": 0.5}
    folder = tmp_path / "nb_tiny"
    nlp.to_disk(folder)
    return folder


def test_embedded_pipeline_splits_sentences_and_lemmatises_by_lookup(embedded):
    nlp, info = embedded
    doc = nlp("Forventningene var store. Veilederne kom.")
    assert [t.lemma_ for t in doc][:1] == ["forventning"] and doc[4].lemma_ == "veileder"
    assert len(list(doc.sents)) == 2
    assert info.source == "embedded" and info.components == ("sentencizer", "lemmatizer")
    assert info.label.startswith("nb_blank_lookup@spacy-")


def test_installed_packages_come_first_in_order(monkeypatch, tmp_path):
    monkeypatch.setattr(nlp_mod, "is_installed", lambda p: p in ("nb_core_news_sm", "nb_core_news_md"))
    assert choose_pipeline("auto") == ("package", "nb_core_news_md")


def test_bundled_pipeline_is_picked_when_present_else_embedded(monkeypatch, tiny_pipeline, tmp_path):
    monkeypatch.setattr(nlp_mod, "is_installed", lambda p: False)
    monkeypatch.setattr(nlp_mod, "bundled_path", lambda: tiny_pipeline)
    assert choose_pipeline("auto") == ("bundled", str(tiny_pipeline))
    monkeypatch.setattr(nlp_mod, "bundled_path", lambda: tmp_path / "not-trained-yet")
    assert choose_pipeline("auto") == ("embedded", "embedded")


def test_pipeline_from_a_folder_records_name_version_and_scores(tiny_pipeline):
    nlp, info = load_from("bundled", str(tiny_pipeline))
    assert (info.name, info.version, info.source) == ("nb_tiny", "9.9.9", "bundled")
    assert "sentencizer" in nlp.pipe_names  # added: the matcher needs sentences
    assert info.scores["lemma_acc"] == 0.5 and info.label == "nb_tiny@9.9.9"


def test_project_pin_by_path_or_name(tiny_pipeline, tmp_path):
    assert choose_pipeline("nb_tiny", root=tiny_pipeline.parent) == ("path", str(tiny_pipeline.resolve()))
    assert choose_pipeline("embedded") == ("embedded", "embedded")
    with pytest.raises(RtaError, match="nb_core_news_xl") as err:
        choose_pipeline("nb_core_news_xl", root=tmp_path)
    assert "rta.toml" in str(err.value)


def test_loading_happens_once_per_process(embedded):
    assert load_pipeline("embedded")[0] is embedded[0]


def test_cli_help_does_not_import_spacy():
    code = "import sys; from rta.cli import app; import rta.cli.nlp; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_doctor_prints_pipeline_components_and_hint(tmp_path, embedded):
    project = make_project(tmp_path)
    result = cli(["doctor"], project)
    assert result.exit_code == 0
    out = result.stdout
    assert "pipeline:   nb_blank_lookup" in out and "components: sentencizer, lemmatizer" in out
    assert "python -m spacy download nb_core_news_sm" in out
    project.close()


def test_scores_include_the_ner_with_consistency_rules_when_meta_has_them():
    from rta.nlp import _scores

    meta = {"scores_ud_test": {"ents_f": 0.66, "upos_acc": 0.96},
            "ner_with_consistency_rules": {"ud_test": {"sent": {"p": 0.7, "r": 0.69, "f": 0.695}}}}
    assert _scores(meta) == {"ents_f": 0.66, "upos_acc": 0.96, "set": "scores_ud_test", "ents_f_with_rules": 0.695}
    assert "ents_f_with_rules" not in _scores({"scores_ud_test": {"ents_f": 0.66}})
    meta["ner_with_consistency_rules"]["ud_test"]["article_sent"] = {"p": 0.73, "r": 0.73, "f": 0.7285}
    assert _scores(meta)["ents_f_with_rules"] == 0.7285  # rules over whole articles, as over a transcript
