"""Hydra SearchPathPlugin: adds the config folders that taskdeck plugins register.

Hydra imports every module under ``hydra_plugins``; this one is installed there as
``hydra_plugins.taskdeck_searchpath``. It acts only for taskdeck's own app (whose primary
config is ``pkg://taskdeck.conf``), so other Hydra apps are untouched.
"""
from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class TaskdeckSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if not any(e.path == "pkg://taskdeck.conf" or e.path == "taskdeck.conf"
                   for e in search_path.get_path()):
            return
        from taskdeck.plugin_manager import get_session

        for path in get_session().config_paths:
            search_path.append(provider="taskdeck-plugin", path=path)
