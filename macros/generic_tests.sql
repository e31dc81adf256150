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


{% test accepted_codes(model, column_name, code_var) %}
    {#- Fails with each value of a coded column that var `code_var` does not list (any role):
        accepted_values derived from the var the quarantine and the models read. -#}
    select
        {{ column_name }} as unknown_value,
        count(*) as occurrences
    from {{ model }}
    where
        {{ column_name }} is not null
        and not {{ output_kpis.code_in(column_name, code_var, none) }}
    group by {{ column_name }}
{% endtest %}
