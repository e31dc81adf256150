{#- Generic tests this package needs without dbt_utils (dbt Hub is not a dependency). -#}

{% test unique_combination(model, columns) %}
    {#- Fails with each combination of `columns` that occurs more than once. -#}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test expression_is_true(model, expression, where_clause=none) %}
    {#- Fails with every row where `expression` is false or null. -#}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
