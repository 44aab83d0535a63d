"""Apply steps of the Worker facets that have actions of their own kind, in
`reconciler.facets.WORKER_FACETS` order."""

from __future__ import annotations

from reconciler.apply_steps.assets import AssetsStep
from reconciler.apply_steps.base import ApplyStep
from reconciler.apply_steps.deployment import DeploymentStep
from reconciler.apply_steps.secrets import WorkerSecretsStep
from reconciler.apply_steps.settings import SettingsStep
from reconciler.apply_steps.triggers import (
    WorkerCronsStep,
    WorkerDomainStep,
    WorkerRouteStep,
    WorkerSubdomainStep,
)

STEPS: tuple[type[ApplyStep], ...] = (
    WorkerSecretsStep,
    WorkerCronsStep,
    WorkerSubdomainStep,
    WorkerRouteStep,
    WorkerDomainStep,
    SettingsStep,
    AssetsStep,
    DeploymentStep,
)
