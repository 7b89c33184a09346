"""A model pack: ``model=colours``, a word list of colours shipped inside this package."""

from taskdeck import CHAT, ModelPack, Piece, hookimpl

TASKDECK_PLUGIN_API = "1.1"

COLOURS = ModelPack(
    alias="colours",
    description="the colours of the rainbow, black and white (a word list)",
    format="wordlist",
    files={"colours.txt": [Piece("taskdeck_colours", "data/colours.txt")]},
    entry="colours.txt",
    licence="CC0-1.0",
    sha256={"colours.txt": "4db5337901670d72a0ec9d5871be18c71f78ef6b582c1cae0855744738dd0b0b"},
    size="1 kB",
    capabilities=(CHAT,),
)


@hookimpl
def register_model_packs(register):
    register(COLOURS)
