"""Commands: checkpoint (sign the log's head), checkpoint keygen, checkpoint list.

``cryptography`` is imported inside rta.checkpoint's key functions, only by these commands and
``rta audit --verify-checkpoints``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from rta.cli.app import app, echo, format_option, open_project, output_file, project_dir_option

checkpoint_app = typer.Typer(
    help="Signed checkpoints of the audit log (Ed25519): 'rta checkpoint --key FILE' signs the log's "
         "head; 'rta audit --verify-checkpoints --pubkey FILE' checks every checkpoint.",
    invoke_without_command=True,
)
app.add_typer(checkpoint_app, name="checkpoint")


@checkpoint_app.callback()
def checkpoint(
    ctx: typer.Context,
    key: Optional[Path] = typer.Option(None, "--key", "-k",
                                       help="The private key (outside the project) that signs the head."),
    coder: Optional[str] = typer.Option(None, help="Who signs (default: $RTA_CODER or rta.toml)."),
) -> None:
    """Sign the log's current head with your private key, write it to checkpoints/ and log it:
    rewriting the history before it then needs the key."""
    if ctx.invoked_subcommand is not None:
        return
    from rta.checkpoint import create_checkpoint, public_key_path
    from rta.errors import RtaError

    if key is None:
        raise RtaError("say which private key signs the checkpoint: rta checkpoint --key FILE",
                       hint="create a key pair outside the project with 'rta checkpoint keygen --out FILE'")
    project = open_project()
    cp, path = create_checkpoint(project, key, project.coder(coder))
    echo(f"signed log head {cp.head} with key {cp.key}")
    pub = public_key_path(key)
    echo(f"wrote {path} and logged it; verify with: rta audit --verify-checkpoints --pubkey "
         f"{pub if pub.is_file() else 'PUBLIC-KEY-FILE'}")


@checkpoint_app.command("keygen")
def keygen(
    out: Path = typer.Option(..., "--out", "-o", parser=output_file, help="The private key file to create (outside any project); "
                                                      "the public key goes to FILE.pub."),
) -> None:
    """Create an Ed25519 key pair for signed checkpoints: the private key (readable by you only)
    and FILE.pub, the public key to give to whoever verifies."""
    from rta.checkpoint import generate_keys
    from rta.project import CONFIG_NAME

    root = project_dir_option()  # refused inside it (and inside any project folder above FILE)
    private, public, kid = generate_keys(out, root if root is not None and (root / CONFIG_NAME).is_file() else None)
    echo(f"wrote private key {private} (mode 0600; keep it outside the project, never share it)")
    echo(f"wrote public key {public} (key id {kid}): give it to your supervisor, keep a copy outside the project")


@checkpoint_app.command("list")
def list_cmd(
    fmt: str = format_option("table", "table", "json", help="table or json."),
) -> None:
    """List the project's signed checkpoints (files in checkpoints/ and the log)."""
    from rta.checkpoint import find_checkpoints

    checkpoints, bad = find_checkpoints(open_project())
    if fmt == "json":
        echo(json.dumps([{**c.to_dict(), "source": c.source} for c in checkpoints], ensure_ascii=False, indent=2))
        return
    if not checkpoints and not bad:
        echo("no checkpoints yet: rta checkpoint --key FILE")
    for c in checkpoints:
        echo(f"{c.head.short():20} signed {c.signed} by {c.coder or '-'} with key {c.key}  ({c.source})")
    for source, why in bad:
        echo(f"unreadable checkpoint {source}: {why}")
