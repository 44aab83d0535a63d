"""The manifest key of a worker's static assets: `assets` (its pydantic model; `WorkerSpec`
holds the key). Config fields are named as the API names them (the upload's `assets.config`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# The API's limits for `run_worker_first` rules (wrangler: MAX_ROUTES_RULES, rule length).
MAX_RULES = 100
MAX_RULE_LENGTH = 100

Rule = Annotated[str, Field(min_length=1, max_length=MAX_RULE_LENGTH, pattern=r"^!?/")]


class AssetsSpec(BaseModel):
    """A directory of static assets served beside (or instead of) the Worker's code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: Annotated[
        str, Field(min_length=1, description="the asset directory, relative to this manifest file")
    ]
    binding: Annotated[
        str | None,
        Field(
            pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
            description="the name of the assets binding the Worker's code fetches through",
        ),
    ] = None
    html_handling: (
        Literal["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"] | None
    ) = None
    not_found_handling: Literal["none", "404-page", "single-page-application"] | None = None
    run_worker_first: Annotated[
        bool | Annotated[list[Rule], Field(max_length=MAX_RULES)] | None,
        Field(
            description="true, or route rules (`/api/*`, `!/api/docs/*`) that run the Worker "
            "before assets",
        ),
    ] = None
