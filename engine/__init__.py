"""The Waypost runtime: reading department folders, storage, workers, plugins, the web app, the CLI.

Only what other code needs is re-exported here; the implementation lives in private modules.
"""

from engine._folder import LoadedDepartment, find_departments, load_department_folder

__all__ = [
    "LoadedDepartment",
    "find_departments",
    "load_department_folder",
]
