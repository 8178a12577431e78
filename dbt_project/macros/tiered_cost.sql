{#- Cost of `tokens` at `base` USD per million, the part above `threshold` at `above` when the
    model has a long-context tier. -#}
{% macro tiered_cost(tokens, base, above, threshold) -%}
    case
        when {{ threshold }} is not null and {{ above }} is not null and {{ tokens }} > {{ threshold }}
            then ({{ threshold }} * {{ base }} + ({{ tokens }} - {{ threshold }}) * {{ above }}) / 1e6
        else {{ tokens }} * {{ base }} / 1e6
    end
{%- endmacro %}

{#- The cost in USD of one record's tokens at `p`, a reference.model_prices row, as ccusage
    20.0.24's common pricing computes it (its probes: tests/agent_cli_rule_logs.py). The model's
    long-context tier applies by the model's `long_context_rule`:
    - `context`: a record whose context (input, cache reads and cache writes) passes the
      threshold pays the higher rates on every token, as OpenAI and Google bill it;
    - `marginal`: the tokens of each type past the threshold pay the higher rate (Anthropic's
      prices, which ccusage applies so).
    `over`: a CLI's own rule instead (ccusage's Codex and Gemini readers), a SQL condition under
    which the whole record pays the higher rates. A cache write the model has no price for
    costs 1.25 times input (5 minutes) or twice input (1 hour), as in ccusage: the tokens were
    processed, and leaving them out of input must not make them free. -#}
{% macro token_cost(p, input, output, cache_read, cache_write_5m, cache_write_1h='0', over=none) -%}
    {%- set types = [
        (input, p ~ '.input_per_mtok', p ~ '.input_above_per_mtok'),
        (output, p ~ '.output_per_mtok', p ~ '.output_above_per_mtok'),
        (cache_read, 'coalesce(' ~ p ~ '.cache_read_per_mtok, 0)',
         p ~ '.cache_read_above_per_mtok'),
        (cache_write_5m, 'coalesce(' ~ p ~ '.cache_write_5m_per_mtok, ' ~ p ~ '.input_per_mtok * 1.25)',
         p ~ '.cache_write_5m_above_per_mtok'),
        (cache_write_1h, 'coalesce(' ~ p ~ '.cache_write_1h_per_mtok, ' ~ p ~ '.input_per_mtok * 2)',
         p ~ '.cache_write_1h_above_per_mtok'),
    ] -%}
    {%- set context_over -%}
        {{ p }}.tier_threshold_tokens is not null
        and ({{ input }} + {{ cache_read }} + {{ cache_write_5m }} + {{ cache_write_1h }})
            > {{ p }}.tier_threshold_tokens
    {%- endset -%}
    {%- set whole_over = over if over is not none else context_over -%}
    {%- set whole -%}
        (case
            when {{ whole_over }} then
            {%- for tokens, base, above in types %}
                {{ '+ ' if not loop.first }}{{ tokens }} * coalesce({{ above }}, {{ base }})
            {%- endfor %}
            else
            {%- for tokens, base, above in types %}
                {{ '+ ' if not loop.first }}{{ tokens }} * {{ base }}
            {%- endfor %}
        end) / 1e6
    {%- endset -%}
    {%- if over is not none -%}
        {{ whole }}
    {%- else -%}
    case
        when {{ p }}.long_context_rule = 'context' then {{ whole }}
        else
        {%- for tokens, base, above in types %}
            {{ '+ ' if not loop.first }}{{ tiered_cost(tokens, base, above, p ~ '.tier_threshold_tokens') }}
        {%- endfor %}
    end
    {%- endif -%}
{%- endmacro %}
