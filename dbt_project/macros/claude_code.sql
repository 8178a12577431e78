{#- Claude Code usage lines as ccusage 20.0.24 reads them, one row per line that reports an
    API response's usage (`usage_countable`: ccusage's line filter, applied by the loader):
    the line's own message, or a subagent message a `progress` line relays
    (`with_relayed`: only ccusage's daily report reads those). The time is the message's own
    (a relayed message's, not the progress line's); the session that decides duplicates is the
    line's sessionId, else the log's; fast mode names the model `<model>-fast`. `incremental`:
    only the lines of the messages to count again (macros/claude_code_changes.sql). -#}
{% macro claude_code_usage_lines(with_relayed, incremental=false) -%}
    select
        *,
        coalesce(usage_at, occurred_at) as used_at,
        coalesce(session_id, file_session_id) as dedupe_session_id,
        case when speed = 'fast' then model || '-fast' else model end as priced_model,
        case
            when has_cache_creation_breakdown
                then coalesce(cache_creation_5m_tokens, 0) + coalesce(cache_creation_1h_tokens, 0)
            else coalesce(cache_creation_input_tokens, 0)
        end as cache_creation_tokens
    {%- if incremental %}
    from ({{ claude_code_lines_to_count() }}) as lines
    {%- else %}
    from {{ source('claude_code', 'claude_code_lines') }}
    {%- endif %}
    where usage_countable
    {%- if not with_relayed %}
        and usage_source = 'message'
    {%- endif %}
{%- endmacro %}

{#- The order in which copies of one response are preferred (ccusage): not a sidechain copy,
    then the most tokens, then one that states its speed, then the first in path and line
    order (bytewise, as ccusage sorts paths). -#}
{% macro claude_code_copy_order() -%}
    coalesce(is_sidechain, false), total_tokens desc, speed is null, file_path collate "C",
    line_number
{%- endmacro %}

{#- A millisecond timestamp as text, for keys: ccusage compares times to the millisecond. -#}
{% macro claude_code_ms(column) -%}
    to_char({{ column }} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')
{%- endmacro %}

{#- Each response of `relation` with its cost (`cost_usd`, `is_priced`), from
    `claude_code_price_rows`. -#}
{% macro price_claude_code_responses(relation) -%}
    select
        *,
        coalesce(logged_cost_usd, priced_cost_usd) as cost_usd,
        coalesce(logged_cost_usd, priced_cost_usd) is not null as is_priced
    from ({{ claude_code_price_rows(relation) }}) as priced
    where price_rank = 1
{%- endmacro %}

{#- The cost of each response of `relation`: the line's own costUSD when it has one (ccusage's
    default `auto` mode), else its tokens at the reference.model_prices row in force on its UTC
    day (long-context tiers by the model's rule, as ccusage: macros/tiered_cost.sql);
    `<synthetic>` (a message Claude Code wrote itself, no API call) costs nothing; a model
    without a price has cost null. -#}
{% macro claude_code_price_rows(relation) -%}
    select
        responses.*,
        prices.valid_from as price_valid_from,
        case
            when responses.logged_cost_usd is not null then 'logged'
            when responses.model_name = '<synthetic>' then 'not billed'
            else prices.price_source
        end as price_source,
        case when responses.model_name = '<synthetic>' then 0 else
        {{ token_cost('prices', 'responses.input_tokens', 'responses.output_tokens',
                      'responses.cache_read_tokens', 'responses.cache_creation_5m_tokens',
                      'responses.cache_creation_1h_tokens') }}
        end as priced_cost_usd,
        row_number() over (
            partition by responses.response_key order by prices.valid_from desc
        ) as price_rank
    from {{ relation }} as responses
    left join {{ ref('model_prices') }} as prices
        on responses.model_name = prices.model_name
        and prices.valid_from <= {{ utc('responses.occurred_at') }}::date
{%- endmacro %}

{#- The import and logical CTEs that count each response once by one of ccusage's two sets of
    rules (see the staging models' headers): `daily` (what its daily report and the warehouse
    count) or `session` (its session, monthly and blocks reports). Ends with `chosen`.
    `incremental`: only the messages to count again. -#}
{% macro claude_code_responses(rules, incremental=false) -%}
{%- set daily = rules == 'daily' -%}
usage_lines as (

    {{ claude_code_usage_lines(with_relayed=daily, incremental=incremental) }}

),

keyed as (

    select
        *,
        case
            when message_id is null then 'line:' || file_path || ':' || line_number
            when request_id is not null then message_id || ':' || request_id
            else message_id || ':' || dedupe_session_id
                {%- if daily %} || ':' || {{ claude_code_ms('used_at') }}{% endif %}
        end as response_key,
        coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + cache_creation_tokens
            + coalesce(cache_read_input_tokens, 0) as total_tokens
    from usage_lines

),

ranked as (

    select
        *,
        count(*) over (partition by response_key) as copy_count,
        row_number() over (
            partition by response_key order by {{ claude_code_copy_order() }}
        ) as copy_rank
    from keyed

),

-- `/btw`: one message id under several request ids in one session, a sidechain among them.
side_questions as (

    select
        *,
        case when message_id is not null and request_id is not null then row_number() over (
            partition by message_id, dedupe_session_id,
                {%- if not daily %} {{ claude_code_ms('used_at') }},{% endif %}
                request_id is not null
            order by {{ claude_code_copy_order() }}
        ) end as side_rank
    from ranked
    where copy_rank = 1

),

chosen as (

    select * from side_questions
    where side_rank is null or side_rank = 1 or not coalesce(is_sidechain, false)

)
{%- endmacro %}

{#- The columns both sets of responses carry, renamed from the log's. -#}
{% macro claude_code_response_columns() -%}
        response_key,
        message_id,
        request_id,
        file_session_id as session_id,
        project,
        priced_model as model_name,
        file_path,
        coalesce(input_tokens, 0) as input_tokens,
        coalesce(output_tokens, 0) as output_tokens,
        cache_creation_tokens,
        case
            when has_cache_creation_breakdown then coalesce(cache_creation_5m_tokens, 0)
            else cache_creation_tokens
        end as cache_creation_5m_tokens,
        coalesce(cache_creation_1h_tokens, 0) as cache_creation_1h_tokens,
        coalesce(cache_read_input_tokens, 0) as cache_read_tokens,
        total_tokens,
        cost_usd as logged_cost_usd,
        copy_count,
        coalesce(is_sidechain, false) as is_sidechain,
        used_at as occurred_at,
        _loaded_at as loaded_at
{%- endmacro %}

{#- Per group of Claude Code responses: their count, tokens of each type and cost. -#}
{% macro claude_code_usage_sums() -%}
        count(*) as response_count,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens,
        sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(*) filter (where not is_priced) as unpriced_response_count
{%- endmacro %}
