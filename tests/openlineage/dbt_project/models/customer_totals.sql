select customer_id, sum(amount) as total, count(*) as orders
from {{ ref('stg_orders') }}
group by customer_id
