"""The fixed text of a report in each language it is written in (``rta report --lang nb|en``).

Templates see the chosen language's labels as ``L`` (``{{ L.definition }}``); Python code that
builds report data takes them from :func:`labels`. A Norwegian report holds no English word of
rta's own, and an English one no Norwegian word (the data, such as theme, code and role names,
stays as the project wrote it).
"""

from __future__ import annotations

import re
from typing import Any

LANGS = ("nb", "en")

_NB: dict[str, Any] = {
    "title_project": "Tema i {project}", "title": "Tematisk analyse",
    "unverified": "UVERIFISERT",
    "unverified_text": "prosjektet besto ikke revisjonen (rta audit) da rapporten ble laget. Utdragene kan ikke stoles "
                       "på uten videre.",
    "line": "linje", "code": "kode", "codes": "koder",
    "from_suggestion": "akseptert forslag", "partly_suggestion": "delvis fra aksepterte forslag",
    "superseded": "fra revisjon {rev}, erstattet av revisjon {new}",
    "chosen_because": "Valgt fordi",
    "matrix_caption": "kodinger (informanter)", "theme": "Tema", "total": "Totalt",
    "built_with": "Bygget {built} med rta {version}", "n_themes": "tema", "extracts": "utdrag",
    "from_of": "fra {n} av {total} informanter", "selection": "utvalg",
    "filter_names": {"tema": "tema", "rolle": "rolle", "koder": "koder"},
    "from_codebook": "Temaene er hentet fra kodeboken; de er ennå ikke bygget i prosjektet",
    "contents": "Innhold", "overview": "Tema, roller og grupper",
    "never_section": "Informanter som ikke siteres og koder som ikke brukes",
    "app_a": "Vedlegg A: øvrige utdrag", "app_b": "Vedlegg B: utdragene i sammenheng",
    "app_c": "Vedlegg C: sporbarhet og revisjon", "app_d": "Vedlegg D: memoer og refleksiv logg",
    "definition": "Definisjon", "not_defined": "(ikke definert ennå)",
    "concept": "Sentral organiserende idé", "not_formulated": "(ikke formulert ennå)",
    "origin": "Opphav", "opposite": "motpol", "codes_label": "Koder", "none": "(ingen)", "spread": "Spredning",
    "no_codings": "Ingen aksepterte kodinger i dette temaet", "in_selection": " i utvalget",
    "auto_1": "Ingen utdrag er valgt ut for dette temaet ennå",
    "auto_2": "Rapporten viser derfor inntil {n} per rolle, spredt over informantene og aldri to fra samme tur.",
    "featured_note": "Utdrag valgt ut av forskerne, i valgt rekkefølge.",
    "others_in": "De øvrige står i", "appendix_a": "vedlegg A",
    "matrix_note": "Tall er aksepterte kodinger; i parentes antall ulike informanter. En koding teller i hvert tema "
                   "koden hører til.",
    "never_caption": "Informanter uten utdrag i noe tema", "col_informant": "Informant", "col_role": "Rolle",
    "col_group": "Gruppe", "col_words": "Ord i transkripsjonene", "not_interviewed": "ikke intervjuet i materialet",
    "all_quoted": "Alle informantene er sitert.", "unused_codes": "Koder som ikke er brukt",
    "all_used": "Alle kodene i kodeboken er brukt.", "codes_no_theme": "Brukte koder som ikke hører til noe tema",
    "app_a_intro": "Utdragene som ikke vises i temaets avsnitt, per tema og rolle.",
    "app_b_intro": "Tur for tur rundt hvert utdrag, med linjenumre i transkripsjonen; utdragene er uthevet. "
                   "↩ fører tilbake til utdraget.",
    "revision": "revisjon", "superseded_by": "erstattet av revisjon",
    "back_link": "↩ utdraget fra {label} i «{theme}»",
    "built": "Bygget", "phase": "fase", "codebook": "Kodebok", "version": "versjon",
    "versions_used": "versjoner brukt i kodingene", "none_imported": "(ingen importert)",
    "nlp_models": "NLP-modell(er) for forslag", "suggestions_n": "forslag", "no_suggestions": "ingen forslag brukt",
    "suggestions": "Forslag", "accepted": "akseptert", "rejected": "avvist", "not_reviewed": "ikke vurdert",
    "codings": "Kodinger", "accepted_pl": "aksepterte", "manual": "manuelle", "from_accepted": "fra aksepterte forslag",
    "coders": "Kodere", "log_head": "Loggens hode",
    "log_head_note": "siste hendelse i revisjonsloggen da rapporten ble bygget;",
    "log_head_check": "viser om loggen senere er avkortet eller skrevet om",
    "audit": "Revisjon", "anonymisation": "Anonymisering", "anon_left": "Mulige identifikatorer igjen", "in": "i",
    "anon_see": "før rapporten deles", "see": "Se",
    "anon_none": "ingen funnet med mønstre og lister (navn fra NER:",
    "failures_note": "rta audits egne meldinger (på engelsk):",
    "verify_note": "Hvert utdrag bærer transkripsjon, revisjon, posisjon og SHA-256 for teksten sin. Kontroller "
                   "rapporten mot prosjektet med",
    "journal": "refleksiv logg", "unknown": "ukjent",
    "about": {"coding": "koding", "code": "kode", "theme": "tema", "transcript": "transkripsjon",
              "suggestion": "forslag", "project": "prosjekt"},
    "origins": {"inductive": "induktivt", "deductive": "deduktivt"},
    "statuses": {"candidate": "kandidattema", "reviewed": "gjennomgått", "defined": "definert",
                 "discarded": "forkastet"},
    "no_group": "(ingen gruppe)", "no_role": "Uten informantrolle",
    "matrix_roles": "Tema og roller", "matrix_groups": "Tema og grupper",
    "spread_all": "alle {total} {noun}", "spread_of": "{n} av {total} {noun}",
    "nouns": {"informants": "informanter", "groups": "grupper", "roles": "roller"},
    "figures": "Figurer", "map_title": "Tematisk kart", "heat_title": "Tema og roller (kodinger)",
    "coverage_title": "Informanter per tema",
    "map_caption": "Temaene med kodene sine; en kode i flere tema står mellom dem. Størrelsen følger antall kodinger.",
    "heat_caption": "Kodinger per tema og rolle; i parentes antall ulike informanter.",
    "coverage_caption": "● utdrag i temaets avsnitt, ○ bare kodet (vedlegg A), tomt: aldri i temaet.",
    "coverage_legend": ["utdrag i avsnittet", "bare kodet"],
    "audit_passed": "revisjonen besto", "audit_failed": "revisjonen feilet",
    "failures": "feil", "checked": "kontrollert",
    "checked_names": {
        "events": "hendelser", "transcript revisions": "transkripsjonsrevisjoner",
        "turn tables (logged hash)": "turtabeller (loggført hash)",
        "turn tables (re-parsed, older log)": "turtabeller (lest på nytt, eldre logg)",
        "codebook versions": "kodebokversjoner", "codings": "kodinger", "suggestions": "forslag",
        "transcripts": "transkripsjoner", "informants": "informanter", "themes": "tema", "theme codes": "temakoder",
        "memos": "memoer", "coders": "kodere", "event texts": "hendelsestekster",
    },
    "kinds": {"chain": "kjede", "transcript": "transkripsjon", "quote": "sitat", "code": "kode",
              "codebook": "kodebok", "record": "register", "report": "rapport"},
}

_EN: dict[str, Any] = {
    "title_project": "Themes in {project}", "title": "Thematic analysis",
    "unverified": "UNVERIFIED",
    "unverified_text": "the project did not pass the audit (rta audit) when this report was built. Its extracts "
                       "cannot be relied on as they stand.",
    "line": "line", "code": "code", "codes": "codes",
    "from_suggestion": "accepted suggestion", "partly_suggestion": "partly from accepted suggestions",
    "superseded": "from revision {rev}, superseded by revision {new}",
    "chosen_because": "Chosen because",
    "matrix_caption": "codings (informants)", "theme": "Theme", "total": "Total",
    "built_with": "Built {built} with rta {version}", "n_themes": "themes", "extracts": "extracts",
    "from_of": "from {n} of {total} informants", "selection": "selection",
    "filter_names": {"tema": "theme", "rolle": "role", "koder": "coder"},
    "from_codebook": "The themes are taken from the codebook; they have not been built in the project yet",
    "contents": "Contents", "overview": "Themes, roles and groups",
    "never_section": "Informants never quoted and codes never used",
    "app_a": "Appendix A: other extracts", "app_b": "Appendix B: the extracts in context",
    "app_c": "Appendix C: traceability and audit", "app_d": "Appendix D: memos and reflexive journal",
    "definition": "Definition", "not_defined": "(not defined yet)",
    "concept": "Central organising concept", "not_formulated": "(not formulated yet)",
    "origin": "Origin", "opposite": "opposite pole", "codes_label": "Codes", "none": "(none)", "spread": "Spread",
    "no_codings": "No accepted codings in this theme", "in_selection": " in the selection",
    "auto_1": "No extracts have been chosen for this theme yet",
    "auto_2": "The report therefore shows up to {n} per role, spread over the informants and never two from the "
              "same turn.",
    "featured_note": "Extracts chosen by the researchers, in their order.",
    "others_in": "The others are in", "appendix_a": "appendix A",
    "matrix_note": "Figures are accepted codings; in brackets the number of distinct informants. A coding counts in "
                   "every theme its code belongs to.",
    "never_caption": "Informants with no extract in any theme", "col_informant": "Informant", "col_role": "Role",
    "col_group": "Group", "col_words": "Words in the transcripts", "not_interviewed": "not interviewed in this material",
    "all_quoted": "Every informant is quoted.", "unused_codes": "Codes never used",
    "all_used": "Every code in the codebook is used.", "codes_no_theme": "Codes in use that belong to no theme",
    "app_a_intro": "The extracts not shown in their theme's section, by theme and role.",
    "app_b_intro": "Turn by turn around each extract, with the transcript's line numbers; the extracts are "
                   "highlighted. ↩ leads back to the extract.",
    "revision": "revision", "superseded_by": "superseded by revision",
    "back_link": "↩ the extract from {label} in “{theme}”",
    "built": "Built", "phase": "phase", "codebook": "Codebook", "version": "version",
    "versions_used": "versions used in the codings", "none_imported": "(none imported)",
    "nlp_models": "NLP model(s) for suggestions", "suggestions_n": "suggestions", "no_suggestions": "no suggestions used",
    "suggestions": "Suggestions", "accepted": "accepted", "rejected": "rejected", "not_reviewed": "not reviewed",
    "codings": "Codings", "accepted_pl": "accepted", "manual": "manual", "from_accepted": "from accepted suggestions",
    "coders": "Coders", "log_head": "Log head",
    "log_head_note": "the last event of the audit log when the report was built;",
    "log_head_check": "shows whether the log was later cut off or rewritten",
    "audit": "Audit", "anonymisation": "Anonymisation", "anon_left": "Possible identifiers left", "in": "in",
    "anon_see": "before the report is shared", "see": "See",
    "anon_none": "none found with patterns and lists (names from NER:",
    "failures_note": "rta audit's own messages:",
    "verify_note": "Every extract carries the transcript, revision, position and SHA-256 of its text. Check the "
                   "report against the project with",
    "journal": "reflexive journal", "unknown": "unknown",
    "about": {"coding": "coding", "code": "code", "theme": "theme", "transcript": "transcript",
              "suggestion": "suggestion", "project": "project"},
    "origins": {"inductive": "inductive", "deductive": "deductive"},
    "statuses": {"candidate": "candidate theme", "reviewed": "reviewed", "defined": "defined",
                 "discarded": "discarded"},
    "no_group": "(no group)", "no_role": "No informant role",
    "matrix_roles": "Themes and roles", "matrix_groups": "Themes and groups",
    "spread_all": "all {total} {noun}", "spread_of": "{n} of {total} {noun}",
    "nouns": {"informants": "informants", "groups": "groups", "roles": "roles"},
    "figures": "Figures", "map_title": "Thematic map", "heat_title": "Themes and roles (codings)",
    "coverage_title": "Informants per theme",
    "map_caption": "The themes with their codes; a code in several themes stands between them. Size follows the "
                   "number of codings.",
    "heat_caption": "Codings per theme and role; in brackets the number of distinct informants.",
    "coverage_caption": "● extract in the theme's section, ○ coded only (appendix A), empty: never in the theme.",
    "coverage_legend": ["extract in the section", "coded only"],
    "audit_passed": "audit passed", "audit_failed": "audit FAILED", "failures": "failure(s)", "checked": "checked",
    "checked_names": {}, "kinds": {},
}

_LABELS = {"nb": _NB, "en": _EN}


class Labels(dict):
    """A language's labels; ``L.key`` in templates, ``L["key"]`` in Python."""

    __getattr__ = dict.__getitem__


def labels(lang: str) -> Labels:
    from rta.errors import RtaError

    if lang not in _LABELS:
        raise RtaError(f"unknown report language '{lang}'", hint="use --lang nb or --lang en")
    return Labels(_LABELS[lang])


def spread(L: Labels, n: int, total: int, noun: str, names: list[str] | None = None) -> str:
    """'9 av 15 informanter', 'alle 4 grupper', '2 of 4 groups (kommune 1, kommune 2)'."""
    word = L["nouns"][noun]
    if total and n == total:
        return L["spread_all"].format(total=total, noun=word)
    text = L["spread_of"].format(n=n, total=total, noun=word)
    if names and n and len(names) <= 4:
        text += f" ({', '.join(names)})"
    return text


_COUNT = re.compile(r"(\d+) ([^,;()]+?(?: \([^)]*\))?)(?=, |; |\)|$)")


def audit_line(summary: str, lang: str) -> str:
    """``AuditReport.summary()`` in the report's language: 'audit passed: 23 events, ...' ->
    'revisjonen besto: 23 hendelser, ...'."""
    L = labels(lang)
    names, kinds = L["checked_names"], L["kinds"]
    if lang == "en":
        return summary

    def count(m: re.Match) -> str:
        what = m.group(2)
        return f"{m.group(1)} {names.get(what, kinds.get(what, what))}"

    if summary.startswith("audit passed: "):
        return f"{L['audit_passed']}: " + _COUNT.sub(count, summary[len("audit passed: "):])
    m = re.fullmatch(r"audit FAILED: (\d+) failure\(s\) \((.*?)\); checked (.*)", summary)
    if m:
        return (f"{L['audit_failed']}: {m.group(1)} {L['failures']} ({_COUNT.sub(count, m.group(2))}); "
                f"{L['checked']} {_COUNT.sub(count, m.group(3))}")
    return summary


def about(m: Any, lang: str) -> str:
    """What a memo is attached to, in the report's language ('koding:12 Tid, k1:40-44' ->
    'koding 12 Tid, k1:40-44')."""
    L = labels(lang)
    if m.target_kind == "journal":
        return L["journal"]
    kind, sep, rest = str(m.about).partition(":")
    if sep and kind in L["about"]:
        return f"{L['about'][kind]} {rest}"
    return str(m.about)
