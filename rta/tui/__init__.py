"""``rta read``: a full-screen terminal workbench for reading and coding transcripts.

Textual is imported only here (and by ``rta read``), never at start-up of other commands.
:mod:`rta.tui.model` (what is on screen) and :mod:`rta.tui.session` (every decision, through
the same library calls as ``rta code``, ``rta uncode``, ``rta review`` and ``rta memo``) do
not import Textual, so they can be tested and reused on their own."""
