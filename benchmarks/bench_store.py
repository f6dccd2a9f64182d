"""Benchmark: audit and quote export on a large project (200 transcripts, 20,000 codings).

Builds the project through the library (generated, varied Norwegian-looking transcripts, added
with ``Project.add_files``; codings created with ``create_coding`` in one transaction), then
times ``rta audit`` and ``rta export quotes`` in-process (library calls) and through the CLI
(subprocess), each against a baseline measured in the same run: a plain SQLite SELECT of all
codings with their transcript text. The issue's target: each under 5 s on this machine.

    python benchmarks/bench_store.py [--transcripts 200] [--codings 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "altså ja nei vi de hen skolen kommunen veilederne ordningen forfasen gjennomføringsfasen tid rom "
    "samarbeid kompetanse kapasitet utvikling lærerne rektor skoleeier møter plan mål tiltak refleksjon "
    "forståelse rolle uklart tydelig kontinuitet brudd struktur ressurser økonomi støtte tillit relasjoner "
    "prosess erfaring læring arbeid endring ledelse felles behov bestilling ansvar opplevde egentlig litt "
    "veldig mye lite godt bra vanskelig nyttig lærerikt viktig videre sammen hele veien første andre året "
    "våres ordninga dem sånn liksom kanskje faktisk hadde skulle kunne måtte ble fikk tok ga var er har"
).split()
SPEAKERS = ["S1", "R1.1", "R1.2", "S2", "R2.1", "R2.2", "S3", "R3", "S4", "R4", "Va", "Vb", "Vc", "Vd", "Ve"]
CODES = [
    "Anerkjennelse", "Brudd", "Døråpnere", "Eierskap", "Erfaringer", "Forståelse", "Forventninger",
    "Handlingsrom", "Historikk", "Identitet", "Kapasitetsbygging", "Kompleksitet", "Kompetanse",
    "Kommunikasjon", "Kontinuitet", "Likeverd", "Lokalt", "Lærerikt", "Medvirkning", "Motivasjon",
    "Muligheter", "Personavhengighet", "Refleksjon", "Relasjoner", "Rolleavklaringer", "Rom", "Sammenheng",
    "Selvbestemmelse", "Selvstendighet", "Strukturer", "Støtte", "Suksessfaktorer", "Tid", "Tillit",
    "Uklarhet", "Usikkerhet", "Utbytte", "Utskiftning", "Variasjon", "Veilederrollen", "Veiledning", "Økonomi",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", ".", "?", " (...)."])


def transcript_text(rng: random.Random, i: int) -> str:
    speakers = rng.sample(SPEAKERS, 2)
    lines = ["---", f"id: t{i:03d}", "date: 2021-04-06", "interviewer: I", "---"]
    for _ in range(rng.randint(25, 35)):
        lines.append("I: " + sentence(rng))
        turn = " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))
        lines.append(f"{rng.choice(speakers)}: {turn}")
        if rng.random() < 0.3:
            lines.append(sentence(rng))
    return "\n".join(lines) + "\n"


def build(root: Path, n_transcripts: int, n_codings: int) -> float:
    from rta.coding import create_coding, ensure_codebook_version
    from rta.project import Project

    rng = random.Random(4)
    t0 = time.perf_counter()
    project = Project.init(root / "studie", name="Benchmark", coder="bench")
    src = root / "transkripsjoner"
    src.mkdir()
    files = []
    for i in range(n_transcripts):
        path = src / f"t{i:03d}.txt"
        path.write_text(transcript_text(rng, i), encoding="utf-8")
        files.append(path)
    project.add_files(files, coder="bench")
    store = project.store
    turns = [r for r in store.current_turns() if r["informant"]]
    per = {}
    for r in turns:
        per.setdefault(r["transcript_id"], []).append(r)
    ids = sorted(per)
    with store.transaction():
        version = ensure_codebook_version(store, project.codebook_path, "bench")
        seen: set[tuple[str, int, int, str]] = set()
        k = 0
        while len(seen) < n_codings:
            t = per[ids[k % len(ids)]][rng.randrange(len(per[ids[k % len(ids)]]))]
            k += 1
            length = t["end"] - t["start"]
            a = t["start"] + rng.randrange(max(1, length // 2))
            b = max(min(t["end"], a + rng.randint(20, 240)), a + 1)
            key = (t["transcript_id"], a, b, rng.choice(CODES))
            if key in seen:  # rta refuses a second coding of the same span with the same code
                continue
            seen.add(key)
            create_coding(store, key[0], a, b, key[3], rng.choice(["ana", "bjørn"]),
                          version, memo=None if rng.random() < 0.8 else "memo " + sentence(rng))
    project.close()
    return time.perf_counter() - t0


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--codings", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="build the project in this folder and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="rta-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    rta = str(Path(sys.executable).with_name("rta"))
    try:
        build_s = build(root, args.transcripts, args.codings)
        proj = root / "studie"
        from rta.audit import audit
        from rta.exports import export_quotes
        from rta.project import Project

        project = Project.open(proj)
        store = project.store
        n = store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
        chars = store.conn.execute("SELECT SUM(LENGTH(text)) FROM transcript_revisions").fetchone()[0]
        print(f"project: {args.transcripts} transcripts ({chars:,} chars), {n:,} codings; built in {build_s:.1f} s")

        def baseline() -> None:
            conn = sqlite3.connect(proj / "rta.db")
            texts = {r[0]: r[1] for r in conn.execute("SELECT transcript_id, text FROM transcript_revisions")}
            rows = [(r[0], texts[r[1]][r[2]:r[3]]) for r in conn.execute("SELECT id, transcript_id, start, end FROM codings")]
            assert len(rows) == n
            conn.close()

        base = timed(baseline)
        report = audit(store)
        assert report.ok, report.to_text()
        results = [("baseline: sqlite SELECT of all codings + quote slices", base)]
        results.append(("audit (library)", timed(lambda: audit(store))))
        out = root / "quotes"
        for fmt in ("csv", "jsonl", "xlsx"):
            results.append((f"export quotes --format {fmt} (library)",
                            timed(lambda fmt=fmt: export_quotes(store, fmt, out.with_suffix("." + fmt),
                                                                role_name=project.registry.role_name),
                                  repeat=1 if fmt == "xlsx" else 3)))
        project.close()
        env = {**os.environ, "RTA_PROJECT": str(proj)}

        def cli(*argv: str) -> None:
            subprocess.run([rta, *argv], check=True, env=env, stdout=subprocess.DEVNULL)

        results.append(("rta audit (CLI subprocess)", timed(lambda: cli("audit"), repeat=2)))
        results.append(("rta export quotes --format csv (CLI subprocess)",
                        timed(lambda: cli("export", "quotes", "--format", "csv", "-o", str(out.with_suffix(".cli.csv"))), repeat=2)))
        results.append(("rta export quotes --format xlsx (CLI subprocess)",
                        timed(lambda: cli("export", "quotes", "--format", "xlsx", "-o", str(out.with_suffix(".cli.xlsx"))), repeat=1)))
        print(f"{'measurement':56} {'seconds':>8} {'x baseline':>11}  target")
        for name, secs in results:
            target = "" if name.startswith("baseline") else ("< 5 s ok" if secs < 5 else "< 5 s MISSED")
            print(f"{name:56} {secs:8.3f} {secs / base:11.1f}  {target}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
