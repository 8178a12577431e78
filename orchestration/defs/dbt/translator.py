"""The project's one dbt translator: asset keys are <schema>/<name>, groups are dbt layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class WarehouseDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Sources are the loaders' raw tables: the same keys as the ingestion assets.
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "analytics"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        """Models past staging also depend on the raw tables their staging views read: staging
        views need no rebuild for new rows, so a micro-batch run leaves them out, and these
        edges still put each load before the models that read it."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id, {})
        if node.get("resource_type") != "model" or "staging" in node.get("fqn", []):
            return spec
        raw = {
            self.get_asset_key(manifest["sources"][grandparent])
            for parent in manifest["parent_map"].get(unique_id, [])
            if "staging" in manifest["nodes"].get(parent, {}).get("fqn", [])
            for grandparent in manifest["parent_map"].get(parent, [])
            if grandparent.startswith("source.")
        }
        return spec.merge_attributes(deps=sorted(raw, key=lambda k: k.to_user_string()))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingestion"
        return dbt_resource_props.get("config", {}).get("schema") or "analytics"
