"""Airflow tasks that record each step of a training pipeline (Airflow 2.x TaskFlow).

The API key and URL come from the worker's environment (AUDIT_PLATFORM_URL,
AUDIT_PLATFORM_API_KEY), e.g. from an Airflow connection exported by the deployment.
Each task passes record ids on through XCom. A task Airflow retries sends its write again
with a new Idempotency-Key unless it gives one: the keys below are built from the DAG
run, so a retried task is answered with its first record instead of recording twice.
"""

from __future__ import annotations

import pendulum
from airflow.decorators import dag, task

SYSTEM_ID = "REPLACE-WITH-YOUR-SYSTEM-ID"
MODEL_ID = "REPLACE-WITH-YOUR-MODEL-ID"
DEPLOYMENT_ID = "REPLACE-WITH-YOUR-DEPLOYMENT-ID"


@dag(schedule="@weekly", start_date=pendulum.datetime(2026, 1, 1), catchup=False)
def credit_scoring_training():
    @task
    def register_data(run_id: str = "{{ run_id }}") -> str:
        from pipeline.data import DATASHEET, export_training_csv  # your code

        from audit_client import Client

        path = export_training_csv()
        with Client() as api:
            version = api.dataset_push(
                path,
                dataset="applications",
                system_id=SYSTEM_ID,
                version=run_id,
                split="train",
                datasheet=DATASHEET,
                contains_personal_data=True,
            )
        return str(version["id"])

    @task
    def train(dataset_version_id: str, run_id: str = "{{ run_id }}") -> dict:
        from pipeline.model import fit_and_save  # your code: returns (path, metrics)

        from audit_client import Client

        with Client() as api:
            with api.training_run(
                system_id=SYSTEM_ID,
                model_id=MODEL_ID,
                dataset_version_ids=[dataset_version_id],
                idempotency_key=f"train-start-{run_id}",
            ) as run:
                artifact, metrics = fit_and_save()
                run.log_metrics(metrics)
            version = api.model_version_register(
                model_id=MODEL_ID,
                version=run_id,
                artifact=artifact,
                artifact_format="xgboost-json",
                framework="xgboost",
                framework_version="2.1",
                training_run_id=run.id,
                metrics=metrics,
                dataset_version_ids=[dataset_version_id],
                idempotency_key=f"model-version-{run_id}",
            )
        return {"model_version_id": str(version["id"])}

    @task
    def deploy(result: dict) -> None:
        from audit_client import Client

        with Client() as api:
            # Raises GateRefused (the task fails, naming each unmet condition) unless the
            # organization's policy is met.
            api.gate_require(
                deployment_id=DEPLOYMENT_ID, model_version_id=result["model_version_id"]
            )
            api.deployment_activate(
                DEPLOYMENT_ID, model_version_id=result["model_version_id"], reason="weekly retrain"
            )

    deploy(train(register_data()))


credit_scoring_training()
