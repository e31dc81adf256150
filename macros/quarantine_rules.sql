{% macro quarantine_spec(table_name) -%}
    {#-
        What a valid row of each raw table looks like. The structure of every table is declared
        once in kpi_tooling/core/raw_tables.yml (generated into raw_table_declarations,
        macros/raw_tables.sql); the rules that are SQL are here, by table. A spec holds:
          columns   column -> type (string, integer, number, date, timestamp = site-local wall
                    clock, utc = ISO-8601 text ending in Z, boolean); the payload keeps them all
          key       the columns that identify a row
          ids       identifier columns that must be plain codes (letters, digits, _ . : -);
                    default: the key
          enums     column -> allowed values (compared lower-cased and trimmed): only the
                    coded columns whose values a rule reads, from their var (macros/codes.sql);
                    dimensions (segment, priority, channel, shift_code, ...) take any value.
                    An empty coded column is missing_value, unless listed in
          nullable  coded columns that may be empty (a table check says when they may not)
          refs      column -> (source, table, column) it must exist in, among the rows the
                    quarantine kept (kept_rows)
          checks    [{reason, when, detail}]: table rules on the typed columns t_<col>;
                    relative_to_now: true on a rule that compares with the run's start
                    (an incremental run reclassifies its rows every time)
          future_ok timestamp columns allowed to lie in the future (planned shifts, work orders)
          lookups   [{name, on, sql}]: a value from another raw table, joined on column `on`
                    (sql returns lookup_key, lookup_value, one row per key); checks read it
                    as <name>. `on` may be a list of columns: sql then returns
                    lookup_key_<column> for each
          optional  column -> default (SQL over the raw columns, none = null): a column the
                    raw table may leave out; docs/YOUR_DATA.md says what each default means
          required_by_var  column -> (var, default, value): an optional column that becomes
                    required when the var has that value
          one_of    [[columns]]: of each group, the table must have at least one
          absent_with  column -> (source, table, column): the column may be left out only
                    if that other column is left out too
        Override in your project by copying this macro (dispatch) when your sources differ.
    -#}
    {%- set now = output_kpis.run_started_timestamp() -%}
    {%- set code = output_kpis.code_values -%}
    {%- set survey_type = output_kpis.normalized_code('t_survey_type') -%}
    {%- set is_csat = output_kpis.code_in(survey_type, 'cx_survey_type_values', 'csat') -%}
    {%- set is_nps = output_kpis.code_in(survey_type, 'cx_survey_type_values', 'nps') -%}
    {%- set event_type = output_kpis.normalized_code('t_event_type') -%}
    {%- set is_tested = '(' ~ output_kpis.code_in(event_type, 'mes_event_type_values', 'inspection')
        ~ ' or ' ~ output_kpis.code_in(event_type, 'mes_event_type_values', 'retest') ~ ')' -%}
    {%- set overridden = output_kpis.site_time_zone_overrides().keys() | list -%}
    {%- set overridden_site = "t_site_id in ('" ~ overridden | join("', '") ~ "')"
        if overridden else none -%}
    {%- set rules = {
        'mes_sites': {
            'lookups': [output_kpis.time_zone_lookup('time_zone')],
            'checks': output_kpis.time_zone_checks('time_zone', exempt_when=overridden_site),
        },
        'mes_route_steps': {
            'checks': [{'reason': 'non_positive_value', 'when': 't_step_sequence <= 0',
                        'detail': 'step_sequence <= 0'}],
        },
        'mes_work_orders': {
            'checks': [{'reason': 'non_positive_quantity', 'when': 't_planned_quantity <= 0',
                        'detail': 'planned_quantity <= 0'}],
        },
        'mes_shifts': {
            'checks': [
                {'reason': 'end_before_start', 'when': 't_shift_end_local <= t_shift_start_local',
                 'detail': 'shift_end_local <= shift_start_local'},
                {'reason': 'negative_value',
                 'when': 't_planned_downtime_minutes < 0 or t_unplanned_downtime_minutes < 0',
                 'detail': 'downtime minutes < 0'},
                {'reason': 'extreme_value',
                 'when': 't_planned_downtime_minutes + coalesce(t_unplanned_downtime_minutes, 0)'
                         ~ ' > 1440',
                 'detail': 'downtime longer than a day'},
            ],
        },
        'mes_unit_events': {
            'checks': [{'reason': 'missing_value', 'when': is_tested ~ ' and t_result is null',
                        'detail': 'result is empty on an inspection or retest'},
                       {'reason': 'missing_value', 'when': 't_event_local is null',
                        'detail': 'event_local is empty'}],
        },
        'oms_customers': {
            'required_by_var': {'signed_up_date': ('output_kpis_enable_outcomes', true, true)},
            'lookups': [output_kpis.time_zone_lookup('time_zone')],
            'checks': output_kpis.time_zone_checks('time_zone', required=false),
        },
        'oms_order_lines': {
            'one_of': [['first_promised_date', 'first_promised_at']],
            'absent_with': {'ordered_quantity': ('oms', 'oms_shipments', 'shipped_quantity')},
            'checks': [
                {'reason': 'non_positive_quantity', 'when': 't_ordered_quantity <= 0',
                 'detail': 'ordered_quantity <= 0'},
                {'reason': 'extreme_value', 'when': 't_ordered_quantity > 100000',
                 'detail': 'ordered_quantity > 100000'},
                {'reason': 'missing_value',
                 'when': 't_first_promised_date is null and t_first_promised_at is null',
                 'detail': 'first_promised_date and first_promised_at are empty'},
            ],
        },
        'oms_shipments': {
            'required_by_var': {'shipped_at': ('on_time_event', 'delivered', 'shipped'),
                                'delivered_at': ('on_time_event', 'delivered', 'delivered')},
            'absent_with': {'shipped_quantity': ('oms', 'oms_order_lines', 'ordered_quantity')},
            'checks': [
                {'reason': 'non_positive_quantity', 'when': 't_shipped_quantity <= 0',
                 'detail': 'shipped_quantity <= 0'},
                {'reason': 'delivered_before_shipped', 'when': 't_delivered_at < t_shipped_at',
                 'detail': 'delivered_at < shipped_at'},
            ],
        },
        'sd_business_hours': {
            'lookups': [output_kpis.time_zone_lookup('time_zone')],
            'checks': output_kpis.time_zone_checks('time_zone') + [
                {'reason': 'out_of_range', 'when': 't_iso_weekday not between 1 and 7',
                 'detail': 'iso_weekday outside 1..7'},
                {'reason': 'end_before_start', 'when': 't_close_time <= t_open_time',
                 'detail': 'close_time <= open_time'},
            ],
        },
        'sd_agents': {
            'checks': [{'reason': 'end_before_start',
                        'when': 't_active_to_date < t_active_from_date',
                        'detail': 'active_to_date < active_from_date'}],
        },
        'sd_sla_policies': {
            'checks': [
                {'reason': 'non_positive_value', 'when': 't_target_minutes <= 0',
                 'detail': 'target_minutes <= 0'},
                {'reason': 'end_before_start', 'when': 't_valid_to_date < t_valid_from_date',
                 'detail': 'valid_to_date < valid_from_date'},
            ],
        },
        'sd_tickets': {
            'checks': [
                {'reason': 'missing_value', 'when': 't_created_at is null',
                 'detail': 'created_at is empty'},
                {'reason': 'event_before_creation', 'when': 't_first_replied_at < t_created_at',
                 'detail': 'first_replied_at < created_at'},
            ],
        },
        'sd_ticket_status_changes': {
            'checks': [
                {'reason': 'missing_value', 'when': 't_changed_at is null',
                 'detail': 'changed_at is empty'},
            ],
        },
        'crm_opportunities': {
            'checks': [
                {'reason': 'negative_value', 'when': 't_amount < 0', 'detail': 'amount < 0'},
                {'reason': 'extreme_value', 'when': 't_amount > 100000000',
                 'detail': 'amount > 100,000,000'},
                {'reason': 'end_before_start',
                 'when': 't_closed_at < t_created_at or t_qualified_at < t_created_at',
                 'detail': 'closed_at or qualified_at < created_at'},
            ],
        },
        'fin_invoices': {
            'checks': [
                {'reason': 'missing_value', 'when': 't_amount is null or t_invoice_date is null',
                 'detail': 'amount or invoice_date is empty'},
                {'reason': 'extreme_value', 'when': 'abs(t_amount) > 100000000',
                 'detail': '|amount| > 100,000,000'},
                {'reason': 'future_date',
                 'when': 't_invoice_date > cast(' ~ dbt.dateadd('day', 1, now) ~ ' as date)',
                 'detail': 'invoice_date after the build', 'relative_to_now': true},
            ],
        },
        'cx_survey_responses': {
            'checks': [{'reason': 'out_of_range',
                        'when': '(' ~ is_csat ~ ' and t_score not between 1 and 5)'
                                ~ ' or (' ~ is_nps ~ ' and t_score not between 0 and 10)',
                        'detail': 'score outside 1-5 (CSAT) or 0-10 (NPS)'}],
        },
        'qa_return_claims': {
            'checks': [{'reason': 'non_positive_quantity', 'when': 't_quantity <= 0',
                        'detail': 'quantity <= 0'}],
        },
        'cs_churn_events': {
            'checks': [{'reason': 'missing_value', 'when': 't_churned_date is null',
                        'detail': 'churned_date is empty'}],
        },
    } -%}
    {%- set declared = output_kpis.raw_table_declarations() -%}
    {%- if table_name not in declared -%}
        {{ exceptions.raise_compiler_error("no quarantine_spec for raw table '" ~ table_name ~ "'") }}
    {%- endif -%}
    {#- The structure (columns, key, ids, optional, nullable, refs, future_ok) is declared in
        kpi_tooling/core/raw_tables.yml (macros/raw_tables.sql); a coded column's allowed values are
        every value of its var. -#}
    {%- set spec = declared[table_name] -%}
    {%- if spec.get('enums') -%}
        {%- set enums = {} -%}
        {%- for column, var_name in spec.enums.items() -%}
            {%- do enums.update({column: code(var_name)}) -%}
        {%- endfor -%}
        {%- do spec.update({'enums': enums}) -%}
    {%- endif -%}
    {%- do spec.update(rules.get(table_name, {})) -%}
    {#- Checks that read another raw table are added only for their own table. They read the
        other table's base model (every raw row, typed once there), never its raw text, so no
        raw value is typed twice and each base model reads only its own source. A column the
        raw table leaves out is its stated default (null) in the base model. #}
    {%- set string = dbt.type_string() -%}
    {%- if table_name == 'oms_shipments' and output_kpis.raw_table_present('oms_orders') -%}
        {%- do spec.update({'lookups': [{
            'name': 'order_ordered_at', 'on': 'order_line_id',
            'sql': 'select cast(l.order_line_id as ' ~ string ~ ') as lookup_key,'
                   ~ ' min(o.ordered_at) as lookup_value from '
                   ~ ref(output_kpis.base_model_of('oms_order_lines')) ~ ' as l inner join '
                   ~ ref(output_kpis.base_model_of('oms_orders')) ~ ' as o'
                   ~ ' on l.order_id = o.order_id'
                   ~ ' group by cast(l.order_line_id as ' ~ string ~ ')'}]}) -%}
        {%- do spec.checks.append(
{'reason': 'shipped_before_ordered',
                 'when': 't_shipped_at < order_ordered_at',
                 'detail': 'shipped_at < ordered_at of the order'}
        ) -%}
    {%- elif table_name == 'sd_ticket_status_changes' -%}
        {%- do spec.update({'lookups': [output_kpis.earliest_value_lookup(
            'ticket_created_at', 'ticket_id', 'sd_tickets', 'created_at')]}) -%}
        {%- do spec.checks.append(
{'reason': 'event_before_creation',
                 'when': 't_changed_at < ticket_created_at',
                 'detail': 'changed_at < created_at of the ticket'}
        ) -%}
    {%- elif table_name == 'mes_unit_events' -%}
        {#- The unit models place an event on its route by (route of the work order's line,
            step_code): a step that is not on that route has no sequence and no final-step
            flag. An unknown work order is left to unknown_reference. #}
        {%- set route_steps -%}
            select distinct
                cast(w.work_order_id as {{ string }}) as work_order_id,
                cast(l.route_id as {{ string }}) as route_id,
                cast(s.step_code as {{ string }}) as step_code
            from {{ ref(output_kpis.base_model_of('mes_work_orders')) }} as w
            inner join {{ ref(output_kpis.base_model_of('mes_lines')) }} as l
                on cast(w.line_id as {{ string }}) = cast(l.line_id as {{ string }})
            left join {{ ref(output_kpis.base_model_of('mes_route_steps')) }} as s
                on cast(l.route_id as {{ string }}) = cast(s.route_id as {{ string }})
        {%- endset -%}
        {%- do spec.update({'lookups': [
            {'name': 'work_order_route', 'on': 'work_order_id',
             'sql': 'select work_order_id as lookup_key, min(route_id) as lookup_value from ('
                    ~ route_steps ~ ') as route_steps group by work_order_id'},
            {'name': 'route_step', 'on': ['work_order_id', 'step_code'],
             'sql': 'select work_order_id as lookup_key_work_order_id, step_code as'
                    ~ ' lookup_key_step_code, min(route_id) as lookup_value from ('
                    ~ route_steps ~ ') as route_steps where step_code is not null'
                    ~ ' group by work_order_id, step_code'},
        ]}) -%}
        {%- do spec.checks.append(
{'reason': 'unknown_step',
                 'when': 'work_order_route is not null and route_step is null',
                 'detail': 'step_code is not a step of the route of its work order'}
        ) -%}
    {%- elif table_name == 'cs_churn_events' and output_kpis.raw_table_present('oms_customers') -%}
        {%- do spec.update({'lookups': [output_kpis.earliest_value_lookup(
            'customer_signed_up_date', 'customer_id', 'oms_customers', 'signed_up_date')]}) -%}
        {%- do spec.checks.append(
{'reason': 'event_before_creation',
                 'when': 't_churned_date < customer_signed_up_date',
                 'detail': 'churned_date < signed_up_date of the customer'}
        ) -%}
    {%- endif -%}
    {{ return(spec) }}
{%- endmacro %}


{% macro earliest_value_lookup(name, key, table_name, column) -%}
    {#- A quarantine_spec lookup on another raw table: per value of its column `key` (joined on
        the checked table's column of the same name), the earliest value of `column` as its base
        model typed it, among all its raw rows, read in checks as <name> (e.g. the creation time
        of a status change's ticket). -#}
    {%- set string = dbt.type_string() -%}
    {%- set declared = output_kpis.raw_table_declarations()[table_name].columns[column] -%}
    {%- if declared == 'timestamp' -%}
        {#- a base model keeps a site-local timestamp as text: its minimum is no instant -#}
        {{ exceptions.raise_compiler_error("earliest_value_lookup cannot read site-local "
            ~ table_name ~ "." ~ column) }}
    {%- endif -%}
    {{ return({
        'name': name, 'on': key,
        'sql': 'select cast(' ~ key ~ ' as ' ~ string ~ ') as lookup_key, min(' ~ column
               ~ ') as lookup_value from ' ~ ref(output_kpis.base_model_of(table_name))
               ~ ' group by cast(' ~ key ~ ' as ' ~ string ~ ')'}) }}
{%- endmacro %}


{% macro quarantine_tables() -%}
    {#- Every raw table read by the enabled domains (raw_table_enabled) with its source and
        staging model, for the quarantine and the reconciliation. -#}
    {%- set tables = [] -%}
    {%- for name, table in output_kpis.raw_table_declarations().items() -%}
        {%- do tables.append((table.source, name, table.staging_model)) -%}
    {%- endfor -%}
    {{ return(tables | selectattr(1, 'in', output_kpis.enabled_raw_tables()) | list) }}
{%- endmacro %}
