"""An Airflow DAG whose tasks declare their lineage with inlets and outlets."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.common.compat.lineage.entities import File

with DAG("shop_etl", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    extract = BashOperator(
        task_id="extract",
        bash_command="echo extract",
        inlets=[File(url="s3://raw-bucket/orders.csv")],
        outlets=[File(url="s3://lake/orders.parquet")],
    )
    report = BashOperator(
        task_id="report",
        bash_command="echo report",
        inlets=[File(url="s3://lake/orders.parquet")],
        outlets=[File(url="s3://reports/daily.csv")],
    )
    extract >> report
