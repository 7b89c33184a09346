"""An output format: a text result framed as a card, ``<stem>.card.txt``."""

from taskdeck import Formatter, atomic_write_text, hookimpl

TASKDECK_PLUGIN_API = "1.1"


class Card(Formatter):
    name = "card"
    description = "a text result framed as a card (.card.txt)"
    extension = "card.txt"
    kinds = ("text",)

    def write(self, result, run_dir, stem, stream):
        line = "| " + result.text + " |"
        rule = "+" + "-" * (len(line) - 2) + "+"
        return atomic_write_text(run_dir / f"{stem}.{self.extension}", f"{rule}\n{line}\n{rule}\n")


@hookimpl
def register_formatters(register):
    register(Card())
