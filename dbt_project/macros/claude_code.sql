{#- Claude Code usage lines as ccusage 20.0.24 reads them, one row per line that reports an
    API response's usage (`usage_countable`: ccusage's line filter, applied by the loader):
    the line's own message, or a subagent message a `progress` line relays
    (`with_relayed`: only ccusage's daily report reads those). The time is the message's own
    (a relayed message's, not the progress line's); the session that decides duplicates is the
    line's sessionId, else the log's; fast mode names the model `<model>-fast`. -#}
{% macro claude_code_usage_lines(with_relayed) -%}
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
    from {{ source('claude_code', 'claude_code_lines') }}
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

{#- The cost of each response of `relation`: the line's own costUSD when it has one (ccusage's
    default `auto` mode), else its tokens at the reference.model_prices row in force on its UTC
    day (long-context tiers per token type, as ccusage); `<synthetic>` (a message Claude Code
    wrote itself, no API call) costs nothing; a model without a price has cost null. -#}
{% macro price_claude_code_responses(relation) -%}
    select
        responses.*,
        prices.valid_from as price_valid_from,
        case
            when responses.logged_cost_usd is not null then 'logged'
            when responses.model_name = '<synthetic>' then 'not billed'
            else prices.price_source
        end as price_source,
        case when responses.model_name = '<synthetic>' then 0 else
        {{ tiered_cost('responses.input_tokens', 'prices.input_per_mtok',
                       'prices.input_above_per_mtok', 'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.output_tokens', 'prices.output_per_mtok',
                         'prices.output_above_per_mtok', 'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.cache_creation_5m_tokens', 'prices.cache_write_5m_per_mtok',
                         'prices.cache_write_5m_above_per_mtok',
                         'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.cache_creation_1h_tokens', 'prices.cache_write_1h_per_mtok',
                         'prices.cache_write_1h_above_per_mtok',
                         'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.cache_read_tokens', 'prices.cache_read_per_mtok',
                         'prices.cache_read_above_per_mtok', 'prices.tier_threshold_tokens') }}
        end as priced_cost_usd,
        row_number() over (
            partition by responses.response_key order by prices.valid_from desc
        ) as price_rank
    from {{ relation }} as responses
    left join {{ ref('model_prices') }} as prices
        on responses.model_name = prices.model_name
        and prices.valid_from <= {{ utc('responses.occurred_at') }}::date
{%- endmacro %}
