"""Benchmark: ``rta verify`` of a 100-page manuscript against 200 transcripts.

Builds a project with 200 transcripts generated from the bundled sample (the informants'
sentences shuffled across transcripts and speakers, about a fifth of their words swapped for
other words of the sample, so no two transcripts are alike) and a manuscript of about 40,000
words in Markdown and in Word with 150 extracts taken from them: most verbatim, some shortened
with (...), some with a changed word, some attributed to the wrong informant, some typed
without æ/ø/å or OCR-damaged (``rta.ocr.simulate_damage``), some as inline quotes «...» (R4),
and a few unattributed. Then times, each against a baseline measured in the
same run (reading the transcripts alone: every revision's text from the store, split into
words with one regular expression):

* loading the corpus (texts, turns, word forms and the pair index) from the store;
* reading the manuscript and finding its extracts;
* matching the 150 extracts;
* ``verify_manuscript`` end to end (library), for the .md and the .docx;
* ``rta verify`` through the CLI (a new process, output to a file), for the .md.

The goal (issue 21): under 10 s.

    python benchmarks/bench_verify.py [--transcripts 200] [--extracts 150] [--words 40000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL = 10.0
SAMPLE = Path(__file__).resolve().parent.parent / "transcripts_sample"
SPEAKERS = ["S1", "R1.1", "R1.2", "S2", "R2.1", "R2.2", "S3", "R3", "S4", "R4", "Va", "Vb", "Vc", "Vd", "Ve"]
_LABEL = re.compile(r"^(?:\[[\d:]+\]\s*)?([A-Za-zÆØÅæøå ]{1,12}\d*(?:\.\d+)?)\s*:\s*(?:[\[(][\d:]+[\])]\s*)?", re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«])")


def sample_sentences() -> tuple[list[str], list[str]]:
    """The informants' and the interviewers' sentences of the sample transcripts."""
    informant, interviewer = [], []
    for path in sorted(SAMPLE.glob("*.txt")) + sorted(SAMPLE.glob("*.md")):
        if path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        parts = _LABEL.split(text)
        for label, body in zip(parts[1::2], parts[2::2]):
            body = " ".join(body.split())
            into = interviewer if label.strip() in ("I", "Int", "Intervjuer") else informant
            into.extend(s for s in _SENTENCE.split(body) if len(s.split()) >= 4)
    return informant, interviewer


def vary(sentence: str, rng: random.Random, words: list[str]) -> str:
    out = sentence.split()
    for k in range(1, len(out)):
        if rng.random() < 0.2:
            out[k] = rng.choice(words)
    return " ".join(out)


def transcripts(folder: Path, n: int, rng: random.Random) -> list[Path]:
    informant, interviewer = sample_sentences()
    words = sorted({w.strip(".,?!«»()") for s in informant for w in s.split() if w.strip(".,?!«»()").isalpha()})
    paths = []
    for i in range(n):
        speakers = rng.sample(SPEAKERS, 2)
        lines = ["---", f"id: t{i:03d}", "date: 2021-04-06", "interviewer: I", "---"]
        for _ in range(rng.randint(12, 18)):
            lines.append("I: " + rng.choice(interviewer))
            turn = [vary(rng.choice(informant), rng, words) for _ in range(rng.randint(3, 9))]
            lines.append(f"{rng.choice(speakers)}: " + " ".join(turn))
        path = folder / f"t{i:03d}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def manuscript(store, extracts: int, words: int, rng: random.Random) -> tuple[list[tuple[str, str, str]], dict]:
    """(kind, attribution, text) blocks of a manuscript: body paragraphs and extracts."""
    turns = store.conn.execute(
        "SELECT t.transcript_id, t.informant, r.text, t.start, t.end FROM turns t JOIN transcript_revisions r "
        "ON r.transcript_id = t.transcript_id AND r.revision = t.revision WHERE t.informant IS NOT NULL "
        "AND t.end - t.start > 400").fetchall()
    filler = ("I denne delen drøfter jeg hvordan skoleeiere, skoleledere og veiledere beskriver arbeidet med "
              "kapasitetsbygging, og hvordan rollene har endret seg gjennom forfasen og gjennomføringsfasen. "
              "Analysen viser at forventningene var ulike, at tid og rom ble avgjørende, og at kontinuitet i "
              "veiledningen ble trukket fram som en suksessfaktor av flere informanter i kommunene. ").split()
    plan: dict[str, int] = {}
    blocks: list[tuple[str, str, str]] = []
    budget = words
    for k in range(extracts):
        tid, code, text, start, end = rng.choice(turns)
        turn = text[start:end].split()
        size = rng.randint(12, 70)
        a = rng.randint(0, max(0, len(turn) - size))
        part = turn[a:a + size]
        roll = rng.random()
        kind = "verbatim"
        if roll < 0.15 and len(part) > 20:
            part = part[:8] + ["(...)"] + part[14:]
            kind = "omission"
        elif roll < 0.25:
            q = rng.randrange(len(part))
            part[q] = "ofte" if part[q] != "ofte" else "aldri"
            kind = "changed"
        elif roll < 0.30:
            code = rng.choice([c for c in SPEAKERS if c != code])
            kind = "misattributed"
        elif roll < 0.35:
            code = ""
            kind = "unattributed"
        elif roll < 0.40:
            from rta.ocr import simulate_damage

            part = simulate_damage(" ".join(part), rate=0.9, break_every=10_000, seed=k).split()
            kind = "ocr-damaged"
        plan[kind] = plan.get(kind, 0) + 1
        style = "inline" if rng.random() < 0.15 and len(part) < 30 else "block"
        blocks.append((style, code, " ".join(part)))
        budget -= len(part)
        body = max(0, budget // max(1, extracts - k))
        for _ in range(max(1, body // 180)):
            blocks.append(("body", "", " ".join(rng.choice(filler) for _ in range(180)).capitalize() + "."))
            budget -= 180
    return blocks, plan


def write_md(path: Path, blocks: list[tuple[str, str, str]]) -> None:
    out = ["# Kapittel 5: Funn", ""]
    for style, code, text in blocks:
        if style == "body":
            out += [text, ""]
        elif style == "inline":
            out += [f"En informant sier at «{text}»" + (f" ({code})." if code else "."), ""]
        else:
            out += ["Et utdrag:", "", f"> {code}: {text}" if code else f"> {text}", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_docx(path: Path, blocks: list[tuple[str, str, str]]) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Kapittel 5: Funn", level=1)
    for style, code, text in blocks:
        if style == "body":
            d.add_paragraph(text)
        elif style == "inline":
            d.add_paragraph(f"En informant sier at «{text}»" + (f" ({code})." if code else "."))
        else:
            d.add_paragraph("Et utdrag:")
            d.add_paragraph(f"{code}: {text}" if code else text, style="Quote")
    d.save(str(path))


def timed(fn, runs: int = 1):
    """(wall seconds, CPU seconds, value) of the best of ``runs`` calls."""
    best, cpu, value = float("inf"), float("inf"), None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        value = fn()
        best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return best, cpu, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transcripts", type=int, default=200)
    ap.add_argument("--extracts", type=int, default=150)
    ap.add_argument("--words", type=int, default=40000)
    ap.add_argument("--keep", type=Path, help="build the project here and keep it")
    args = ap.parse_args()

    from rta.manuscript import CodeFinder, find_extracts, read_manuscript
    from rta.project import Project
    from rta.quotematch import Corpus
    from rta.verify import check_extract, project_codes, verify_manuscript

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-verify-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        rng = random.Random(21)
        t0 = time.perf_counter()
        src = base / "kilder"
        src.mkdir(exist_ok=True)
        paths = transcripts(src, args.transcripts, rng)
        project = Project.init(base / "studie", name="Benchmark verify", coder="bench")
        project.add_files(paths, coder="bench")
        store = project.store
        blocks, plan = manuscript(store, args.extracts, args.words, rng)
        md, dx = base / "kapittel5.md", base / "kapittel5.docx"
        write_md(md, blocks)
        write_docx(dx, blocks)
        chars = store.conn.execute("SELECT SUM(LENGTH(text)) FROM transcript_revisions").fetchone()[0]
        tw = store.conn.execute("SELECT SUM(words) FROM turns").fetchone()[0]
        ms = read_manuscript(md)
        print(f"project: {args.transcripts} transcripts ({tw:,} words, {chars:,} chars); manuscript {ms.words:,} words "
              f"(.md {md.stat().st_size // 1024} KB, .docx {dx.stat().st_size // 1024} KB), {args.extracts} extracts "
              f"planted ({', '.join(f'{n} {k}' for k, n in sorted(plan.items()))}); built in "
              f"{time.perf_counter() - t0:.1f} s")

        word = re.compile(r"\w+")

        def baseline():
            return sum(len(word.findall(r[0])) for r in store.conn.execute("SELECT text FROM transcript_revisions"))

        base_t = timed(baseline, 3)
        corpus_t = timed(lambda: Corpus.from_store(store), 3)
        corpus = corpus_t[2]
        codes = CodeFinder(project_codes(store, project.registry), project.registry)
        find_t = timed(lambda: find_extracts(read_manuscript(md), codes), 3)
        extracts = find_t[2]
        match_t = timed(lambda: [check_extract(e, corpus) for e in extracts], 1)
        lib_md = timed(lambda: verify_manuscript(store, project.registry, md), 1)
        lib_dx = timed(lambda: verify_manuscript(store, project.registry, dx), 1)
        v, vd = lib_md[2], lib_dx[2]
        project.close()
        rta = [sys.executable, "-m", "rta"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run([*rta, "--project", str(base / "studie"), "verify", str(md), "-f", "json",
                               "-o", str(base / "verify.json")], capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli = (time.perf_counter() - t, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        assert proc.returncode in (0, 1), proc.stderr
        counts = ", ".join(f"{n} {k}" for k, n in v.counts.items())
        expected = {"verbatim": plan.get("verbatim", 0) + plan.get("unattributed", 0) + plan.get("ocr-damaged", 0),
                    "verbatim_marked": plan.get("omission", 0), "altered": plan.get("changed", 0),
                    "wrong_informant": plan.get("misattributed", 0)}
        same = {k: n for k, n in expected.items() if n} == v.counts
        print(f"found {len(extracts)} extracts: {counts} ({'as planted' if same else 'NOT as planted'}; "
              f"{sum(1 for r in v.results if r.damage)} with damaged letters reported)")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{'measurement':52} {'wall s':>7} {'CPU s':>7} {'x baseline':>11}")
        rows = [("baseline: read the transcripts (text + one regex)", base_t),
                ("load corpus (texts, turns, word forms, pair index)", corpus_t),
                ("read manuscript .md + find extracts", find_t),
                (f"match {len(extracts)} extracts", match_t),
                ("verify_manuscript .md (library, end to end)", lib_md),
                ("verify_manuscript .docx (library, end to end)", lib_dx),
                ("rta verify .md -f json (CLI subprocess)", cli)]
        for name, (wall, cpu, *_) in rows:
            print(f"{name:52} {wall:7.3f} {cpu:7.3f} {cpu / base_t[1]:11.1f}")
        worst = max(lib_md[0], lib_dx[0], cli[0])
        print(f"{'PASS' if worst < GOAL else 'FAIL'}: slowest end to end {worst:.2f} s wall (goal < {GOAL:.0f} s); "
              f"{len(vd.results)} extracts in the .docx; x baseline is CPU time over the baseline's")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
