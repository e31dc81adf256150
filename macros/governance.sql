{% test kpi_governance(model, severity_level='error') %}
    {#-
        Fails (severity_level error) or warns (warn) when the governance model holds rows of that
        severity. When a build or test runs, the message lists every violation by KPI and what
        is missing, instead of a bare row count. The select also returns the rows, so the
        test fails the same way when the message cannot be prepared (e.g. under dbt compile).
    -#}
    {{ config(severity=('warn' if severity_level == 'warn' else 'error')) }}
    {%- if execute and flags.WHICH in ['build', 'test', 'retry'] and load_relation(model) is not none -%}
        {%- set rows = run_query(
            "select message from " ~ model ~ " where severity = '" ~ severity_level
            ~ "' order by rule_id, kpi_id, message") -%}
        {%- set messages = rows.columns[0].values() | list -%}
        {%- if messages | length > 0 -%}
            {%- set text = 'KPI governance: ' ~ (messages | length) ~ ' '
                ~ ('violation' if severity_level == 'error' else 'warning')
                ~ ('s' if messages | length > 1 else '') ~ ':\n  - ' ~ (messages | join('\n  - ')) -%}
            {%- if severity_level == 'error' -%}
                {{ exceptions.raise_compiler_error(text) }}
            {%- else -%}
                {{ exceptions.warn(text) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif %}
    select *
    from {{ model }}
    where severity = '{{ severity_level }}'
{% endtest %}
