{#- Units of output declared in YAML (docs/adding_a_kpi.md). A declaration states what one
    unit of output is; these macros read the declarations, check them (a bad one fails the
    parse, naming the var, the unit and the field) and hand the generic models
    (models/intermediate/units/) and the registry hub their normalised form. -#}

{% macro unit_declaration_vars() -%}
    {#- The vars holding declarations, in order: the package's own (output_kpis_builtin_units:
        built-in KPIs re-expressed as declarations, each read when its domain is enabled), the
        demo's (output_kpis_demo_units: only when this package is the root project, i.e. the
        demo build) and the installing project's (output_kpis_units). -#}
    {%- set names = ['output_kpis_builtin_units'] -%}
    {%- if project_name == 'output_kpis' -%}{%- do names.append('output_kpis_demo_units') -%}{%- endif -%}
    {%- do names.append('output_kpis_units') -%}
    {{ return(names) }}
{%- endmacro %}


{% macro unit_measures() -%}
    {#- measure -> (kind, aggregation) of the KPI it yields. -#}
    {{ return({
        'count': ('volume', 'count'),
        'quality_rate': ('quality', 'ratio'),
        'on_time_rate': ('delivery', 'ratio'),
        'per_actor': ('volume', 'rate'),
    }) }}
{%- endmacro %}


{% macro unit_error(var_name, unit_id, field, message) -%}
    {{ exceptions.raise_compiler_error(
        "var '" ~ var_name ~ "', unit '" ~ unit_id ~ "'"
        ~ (", field '" ~ field ~ "'" if field else '') ~ ": " ~ message) }}
{%- endmacro %}


{% macro parse_unit_relation(text, var_name, unit_id, field) -%}
    {#- "ref('model')", "ref('package', 'model')" or "source('source', 'table')" ->
        {'kind', 'args'}; anything else fails naming the field. -#}
    {%- set match = modules.re.fullmatch(
        "\\s*(ref|source)\\(\\s*'([A-Za-z0-9_]+)'\\s*(?:,\\s*'([A-Za-z0-9_]+)'\\s*)?\\)\\s*",
        text | string) -%}
    {%- if text is not string or match is none
        or (match.group(1) == 'source' and match.group(3) is none) -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "must be \"ref('<model or seed>')\" or \"source('<source>', '<table>')\"; got '"
            ~ text ~ "'") }}
    {%- endif -%}
    {%- set args = [match.group(2)] -%}
    {%- if match.group(3) is not none -%}{%- do args.append(match.group(3)) -%}{%- endif -%}
    {{ return({'kind': match.group(1), 'args': args, 'text': text | trim}) }}
{%- endmacro %}


{% macro unit_relation(parsed) -%}
    {#- The relation a parsed relation declaration names (ref or source). -#}
    {%- if parsed.kind == 'source' -%}
        {{ return(source(parsed.args[0], parsed.args[1])) }}
    {%- elif parsed.args | length == 2 -%}
        {{ return(ref(parsed.args[0], parsed.args[1])) }}
    {%- else -%}
        {{ return(ref(parsed.args[0])) }}
    {%- endif -%}
{%- endmacro %}


{% macro unit_column(spec, field, var_name, unit_id, required=true) -%}
    {%- set value = spec.get(field) -%}
    {%- if value is none -%}
        {%- if required -%}
            {{ output_kpis.unit_error(var_name, unit_id, field, 'is missing: name a column') }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is not string or not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', value) -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "must be a column name (letters, digits, _); got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | lower) }}
{%- endmacro %}


{% macro unit_predicate(value, var_name, unit_id, field) -%}
    {#- A SQL predicate on the relation's columns: non-empty text, one expression (no ; and no
        comment), balanced parentheses and quotes. The engine compiles it at the run's start
        (check_unit_declarations). -#}
    {%- set text = value | string | trim if value is not none else '' -%}
    {%- set unquoted = modules.re.sub("'([^']|'')*'", "''", text) -%}
    {%- if value is not string or text == '' -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "must be a SQL condition on the relation's columns, e.g. \"status = 'published'\"; got '"
            ~ value ~ "'") }}
    {%- elif ';' in unquoted or '--' in unquoted or '/*' in unquoted
        or unquoted.count("'") % 2 == 1
        or unquoted.count('(') != unquoted.count(')') -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "does not compile: one SQL condition, balanced parentheses and quotes, no ; or "
            ~ "comment; got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{% macro unit_identifier(value, var_name, unit_id, field) -%}
    {%- if value is not string or not modules.re.fullmatch('[a-z][a-z0-9_]{0,62}', value) -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "must be a lower-case identifier (a-z, 0-9, _; starting with a letter); got '"
            ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{% macro unit_text(value, var_name, unit_id, field, required=true, default=none) -%}
    {%- if value is none or (value is string and value | trim == '') -%}
        {%- if required -%}
            {{ output_kpis.unit_error(var_name, unit_id, field, 'is missing') }}
        {%- endif -%}
        {{ return(default) }}
    {%- endif -%}
    {%- if value is not string -%}
        {{ output_kpis.unit_error(var_name, unit_id, field, "must be text; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | trim) }}
{%- endmacro %}


{% macro unit_choice(value, allowed, default, var_name, unit_id, field) -%}
    {%- if value is none -%}{{ return(default) }}{%- endif -%}
    {%- if value not in allowed -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "must be one of " ~ allowed | join(', ') ~ "; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{% macro unit_list(value, var_name, unit_id, field) -%}
    {#- A list of mappings; one mapping alone stands for a list of one. -#}
    {%- if value is none -%}{{ return([]) }}{%- endif -%}
    {%- if value is mapping -%}{{ return([value]) }}{%- endif -%}
    {%- if value is string or value is not iterable -%}
        {{ output_kpis.unit_error(var_name, unit_id, field, "must be a list; got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- for item in value if item is not mapping -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "every item must be a mapping such as {kpi: ..., rationale: ...}; got '" ~ item ~ "'") }}
    {%- endfor -%}
    {{ return(value | list) }}
{%- endmacro %}


{% macro normalize_unit_target(value, var_name, unit_id, field) -%}
    {#- -> {'stated': [target rows], 'derived': driver node or none, 'driver_tree': bool}.
        'driver_tree' (alone or as an item of the list): the driver_tree seed derives it. -#}
    {%- if value is string and value == 'driver_tree' -%}
        {{ return({'stated': [], 'derived': none, 'driver_tree': true}) }}
    {%- endif -%}
    {%- if value is not none and value is not mapping and value is iterable
        and value is not string and 'driver_tree' in value -%}
        {%- set rest = output_kpis.normalize_unit_target(
            value | reject('equalto', 'driver_tree') | list, var_name, unit_id, field) -%}
        {{ return({'stated': rest.stated, 'derived': rest.derived, 'driver_tree': true}) }}
    {%- endif -%}
    {%- if value is none -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            "is missing: state {grain, value, valid_from} or {derived_from, operation, "
            ~ "driver_name, driver_value}") }}
    {%- endif -%}
    {%- if value is mapping and value.get('derived_from') is not none -%}
        {%- set operation = output_kpis.unit_choice(value.get('operation'),
            ['divide', 'multiply', 'subtract', 'add'], none, var_name, unit_id,
            field ~ '.operation') -%}
        {%- set driver_value = value.get('driver_value') -%}
        {%- if operation is none or driver_value is not number or driver_value is sameas true
            or driver_value is sameas false -%}
            {{ output_kpis.unit_error(var_name, unit_id, field,
                'a derived target needs operation (divide, multiply, subtract, add) and a '
                ~ 'numeric driver_value') }}
        {%- endif -%}
        {{ return({'stated': [], 'derived': {
            'parent_kpi_id': output_kpis.unit_identifier(value.derived_from, var_name, unit_id,
                field ~ '.derived_from'),
            'operation': operation,
            'driver_name': output_kpis.unit_identifier(value.get('driver_name', 'driver'),
                var_name, unit_id, field ~ '.driver_name'),
            'driver_value': driver_value,
            'description': value.get('note', ''),
        }, 'driver_tree': false}) }}
    {%- endif -%}
    {%- set stated = [] -%}
    {%- for item in output_kpis.unit_list(value, var_name, unit_id, field) -%}
        {%- set target_value = item.get('value') -%}
        {%- if target_value is not number or target_value is sameas true
            or target_value is sameas false -%}
            {{ output_kpis.unit_error(var_name, unit_id, field,
                "needs a numeric value; got '" ~ target_value ~ "'") }}
        {%- endif -%}
        {%- set grain = output_kpis.unit_choice(item.get('grain', 'month'),
            output_kpis.known_grains(), 'month', var_name, unit_id, field ~ '.grain') -%}
        {%- set valid_from = (item.get('valid_from') or output_kpis.min_plausible_date()) | string -%}
        {%- set valid_to = item.get('valid_to') -%}
        {%- for bound in [valid_from] + ([valid_to | string] if valid_to is not none else []) -%}
            {%- if not output_kpis.is_calendar_date(bound) -%}
                {{ output_kpis.unit_error(var_name, unit_id, field,
                    "valid_from and valid_to must be dates 'YYYY-MM-DD'; got '" ~ bound ~ "'") }}
            {%- endif -%}
        {%- endfor -%}
        {%- do stated.append({
            'grain': grain, 'valid_from': valid_from,
            'valid_to': valid_to | string if valid_to is not none else none,
            'dimension_name': item.get('dimension_name', 'overall') | string,
            'dimension_value': item.get('dimension_value', 'all') | string,
            'target_value': target_value, 'note': item.get('note', '') | string}) -%}
    {%- endfor -%}
    {{ return({'stated': stated, 'derived': none, 'driver_tree': false}) }}
{%- endmacro %}


{% macro normalize_unit_kpi(unit, kpi_id, spec, var_name) -%}
    {%- set where = unit.unit_id ~ "', KPI '" ~ kpi_id -%}
    {%- set kpi_id = output_kpis.unit_identifier(kpi_id, var_name, unit.unit_id, 'kpis') -%}
    {%- if spec is not mapping -%}
        {{ output_kpis.unit_error(var_name, where, none, 'must be a mapping of KPI fields') }}
    {%- endif -%}
    {%- set measures = output_kpis.unit_measures() -%}
    {%- if spec.get('measure') is none -%}
        {{ output_kpis.unit_error(var_name, where, 'measure',
            'is missing: one of ' ~ measures.keys() | join(', ')) }}
    {%- endif -%}
    {%- set measure = output_kpis.unit_choice(spec.get('measure'), measures.keys() | list, none,
        var_name, where, 'measure') -%}
    {%- if measure == 'quality_rate' and unit.quality is none -%}
        {{ output_kpis.unit_error(var_name, where, 'measure',
            "quality_rate needs the unit's quality: {when: <condition>, means: <words>}") }}
    {%- elif measure == 'on_time_rate' and unit.deadline is none -%}
        {{ output_kpis.unit_error(var_name, where, 'measure',
            "on_time_rate needs the unit's deadline: {column: <date or timestamp column>}") }}
    {%- elif measure == 'per_actor' and unit.actor is none -%}
        {{ output_kpis.unit_error(var_name, where, 'measure',
            "per_actor needs the unit's actor: the column naming who produced it") }}
    {%- endif -%}
    {%- set layer = output_kpis.unit_choice(spec.get('layer'), ['output', 'outcome'], 'output',
        var_name, where, 'layer') -%}
    {%- set kind = measures[measure][0] if layer == 'output' else 'customer' -%}
    {%- set kind = output_kpis.unit_choice(spec.get('kind'),
        ['volume', 'quality', 'delivery'] if layer == 'output' else ['financial', 'customer'],
        kind, var_name, where, 'kind') -%}
    {%- set per = none -%}
    {%- set actor_periods = none -%}
    {%- if measure == 'per_actor' -%}
        {%- set per = output_kpis.unit_choice(spec.get('per'), output_kpis.known_grains()[:3], none,
            var_name, where, 'per') -%}
        {%- if per is none -%}
            {{ output_kpis.unit_error(var_name, where, 'per', 'is missing: day, week or month') }}
        {%- endif -%}
        {%- set declared = spec.get('actor_periods') -%}
        {%- if declared is not none -%}
            {%- if declared is not mapping -%}
                {{ output_kpis.unit_error(var_name, where, 'actor_periods',
                    'must be {relation, actor, date, dimensions}') }}
            {%- endif -%}
            {%- set period_dimensions = [] -%}
            {%- for name, column in (declared.get('dimensions') or {}).items() -%}
                {%- if name not in unit.dimensions | map(attribute='name') | list -%}
                    {{ output_kpis.unit_error(var_name, where, 'actor_periods.dimensions',
                        "'" ~ name ~ "' is not a dimension of the unit") }}
                {%- endif -%}
                {%- do period_dimensions.append({'name': name, 'column':
                    output_kpis.unit_column({'c': column}, 'c', var_name, where,
                        'actor_periods.dimensions')}) -%}
            {%- endfor -%}
            {%- set actor_periods = {
                'relation': output_kpis.parse_unit_relation(declared.get('relation'), var_name,
                    where, 'actor_periods.relation'),
                'actor': output_kpis.unit_column(declared, 'actor', var_name, where),
                'date': output_kpis.unit_column(declared, 'date', var_name, where),
                'dimensions': period_dimensions} -%}
        {%- endif -%}
    {%- endif -%}
    {%- set outcomes = [] -%}
    {%- for link in output_kpis.unit_list(spec.get('outcomes'), var_name, where, 'outcomes') -%}
        {%- do outcomes.append({
            'outcome_kpi_id': output_kpis.unit_identifier(link.get('kpi'), var_name, where,
                'outcomes.kpi'),
            'expected_relationship': output_kpis.unit_choice(link.get('relationship'),
                ['positive', 'negative'], 'positive', var_name, where, 'outcomes.relationship'),
            'rationale': (link.get('rationale') or '') | string}) -%}
    {%- endfor -%}
    {%- set pairs = [] -%}
    {%- for pair in output_kpis.unit_list(spec.get('paired_with'), var_name, where, 'paired_with') -%}
        {%- do pairs.append({
            'quality_kpi_id': output_kpis.unit_identifier(pair.get('kpi'), var_name, where,
                'paired_with.kpi'),
            'rationale': (pair.get('rationale') or '') | string}) -%}
    {%- endfor -%}
    {%- set unit_name = unit.unit_name -%}
    {%- set formulas = {
        'count': 'count of ' ~ unit_name ~ ' counted',
        'quality_rate': unit_name ~ ' ' ~ unit.quality.means ~ ' / ' ~ unit_name ~ ' counted'
            if unit.quality else '',
        'on_time_rate': 'due ' ~ unit_name ~ ' done by the deadline / due ' ~ unit_name,
        'per_actor': unit_name ~ ' counted / active ' ~ (per or '') ~ 's of each ' ~ (unit.actor or ''),
    } -%}
    {%- set units_of_value = {
        'count': unit_name,
        'quality_rate': 'share',
        'on_time_rate': 'share',
        'per_actor': unit_name ~ ' per ' ~ (unit.actor or '') ~ '-' ~ (per or ''),
    } -%}
    {%- set target = output_kpis.normalize_unit_target(spec.get('target'), var_name, where,
        'target') -%}
    {%- if target.derived is not none or target.driver_tree -%}
        {%- set target_method = 'derived' -%}
    {%- else -%}
        {%- set target_method = 'outcome_target' if layer == 'outcome' else 'explicit' -%}
    {%- endif -%}
    {%- set exclusions = unit.excluded | map(attribute='reason') | list
        + ['not_completed', 'after_as_of'] + (['not_counted'] if unit.counts_when else []) -%}
    {{ return({
        'kpi_id': kpi_id,
        'unit_id': unit.unit_id,
        'measure': measure,
        'per': per,
        'actor_periods': actor_periods,
        'kpi_name': output_kpis.unit_text(spec.get('name'), var_name, where, 'name'),
        'layer': layer,
        'kind': kind,
        'domain': unit.domain,
        'unit_of_output': unit.description,
        'formula': spec.get('formula') or formulas[measure],
        'aggregation': measures[measure][1],
        'multiplier': 1,
        'unit': units_of_value[measure],
        'direction': output_kpis.unit_choice(spec.get('direction'),
            ['higher_is_better', 'lower_is_better'], 'higher_is_better', var_name, where,
            'direction'),
        'owner': output_kpis.unit_text(spec.get('owner'), var_name, where, 'owner'),
        'review_cadence': output_kpis.unit_text(spec.get('review_cadence'), var_name, where,
            'review_cadence', required=false, default='monthly'),
        'bsc_perspective': output_kpis.unit_choice(spec.get('bsc_perspective'),
            ['financial', 'customer', 'internal_process', 'learning_growth'],
            'internal_process' if layer == 'output' else 'customer', var_name, where,
            'bsc_perspective'),
        'exclusions': exclusions | join(', '),
        'outcomes': outcomes,
        'pairs': pairs,
        'target': target,
        'target_method': target_method,
    }) }}
{%- endmacro %}


{% macro normalize_unit(var_name, unit_id, spec) -%}
    {%- set unit_id = output_kpis.unit_identifier(unit_id, var_name, unit_id, none) -%}
    {%- if spec is not mapping -%}
        {{ output_kpis.unit_error(var_name, unit_id, none, 'must be a mapping of fields') }}
    {%- endif -%}
    {%- set known = ['description', 'relation', 'key', 'completed_at', 'time_zone',
        'naive_timestamps', 'counts_when', 'excluded', 'dimensions', 'quality', 'deadline',
        'actor', 'actor_dimensions', 'domain', 'unit_name', 'kpis'] -%}
    {%- for field in spec.keys() if field not in known -%}
        {{ output_kpis.unit_error(var_name, unit_id, field,
            'is not a field of a unit (' ~ known | join(', ') ~ ')') }}
    {%- endfor -%}
    {%- if spec.get('relation') is none -%}
        {{ output_kpis.unit_error(var_name, unit_id, 'relation',
            "is missing: \"source('<source>', '<table>')\" or \"ref('<model>')\"") }}
    {%- endif -%}
    {%- set zone = spec.get('time_zone') or output_kpis.default_time_zone() -%}
    {%- set zone_column = none -%}
    {%- if zone is mapping -%}
        {%- set zone_column = output_kpis.unit_column(zone, 'column', var_name, unit_id) -%}
        {%- set zone = output_kpis.default_time_zone() -%}
    {%- elif not output_kpis.is_time_zone_name(zone) -%}
        {{ output_kpis.unit_error(var_name, unit_id, 'time_zone',
            "must be an IANA time zone name such as UTC or Europe/Berlin, or {column: <the "
            ~ "column naming each row's zone>}; got '" ~ zone ~ "'") }}
    {%- endif -%}
    {%- set excluded = [] -%}
    {%- for item in output_kpis.unit_list(spec.get('excluded'), var_name, unit_id, 'excluded') -%}
        {%- set reason = output_kpis.unit_identifier(item.get('reason'), var_name, unit_id,
            'excluded.reason') -%}
        {%- if reason in ['not_completed', 'after_as_of', 'not_counted'] -%}
            {{ output_kpis.unit_error(var_name, unit_id, 'excluded.reason',
                "'" ~ reason ~ "' is the package's own reason; name yours differently") }}
        {%- endif -%}
        {%- do excluded.append({'reason': reason, 'when': output_kpis.unit_predicate(
            item.get('when'), var_name, unit_id, 'excluded.when')}) -%}
    {%- endfor -%}
    {%- set dimensions = [] -%}
    {%- set declared_dimensions = spec.get('dimensions') or {} -%}
    {%- if declared_dimensions is not mapping -%}
        {{ output_kpis.unit_error(var_name, unit_id, 'dimensions',
            'must be a mapping {name: column}') }}
    {%- endif -%}
    {%- for name, column in declared_dimensions.items() -%}
        {%- set name = output_kpis.unit_identifier(name, var_name, unit_id, 'dimensions') -%}
        {%- if name == 'overall' -%}
            {{ output_kpis.unit_error(var_name, unit_id, 'dimensions',
                "'overall' is every unit's own slice; name the dimension differently") }}
        {%- endif -%}
        {%- do dimensions.append({'name': name, 'column': output_kpis.unit_column(
            {'c': column}, 'c', var_name, unit_id, 'dimensions.' ~ name)}) -%}
    {%- endfor -%}
    {%- set quality = spec.get('quality') -%}
    {%- if quality is not none -%}
        {%- if quality is string -%}{%- set quality = {'when': quality} -%}{%- endif -%}
        {%- set quality = {
            'when': output_kpis.unit_predicate(quality.get('when'), var_name, unit_id, 'quality.when'),
            'means': (quality.get('means') or 'meeting the quality rule') | string} -%}
    {%- endif -%}
    {%- set deadline = spec.get('deadline') -%}
    {%- if deadline is not none -%}
        {%- if deadline is string -%}{%- set deadline = {'column': deadline} -%}{%- endif -%}
        {%- set tolerance = deadline.get('tolerance_minutes', 0) -%}
        {%- if tolerance is not number or tolerance is sameas true or tolerance is sameas false
            or tolerance < 0 -%}
            {{ output_kpis.unit_error(var_name, unit_id, 'deadline.tolerance_minutes',
                "must be a number >= 0; got '" ~ tolerance ~ "'") }}
        {%- endif -%}
        {%- set deadline = {
            'column': output_kpis.unit_column(deadline, 'column', var_name, unit_id),
            'tolerance_minutes': tolerance} -%}
    {%- endif -%}
    {%- set actor_dimensions = spec.get('actor_dimensions') or [] -%}
    {%- for name in actor_dimensions if name not in declared_dimensions -%}
        {{ output_kpis.unit_error(var_name, unit_id, 'actor_dimensions',
            "'" ~ name ~ "' is not one of the unit's dimensions") }}
    {%- endfor -%}
    {%- set unit = {
        'unit_id': unit_id,
        'origin': var_name,
        'description': output_kpis.unit_text(spec.get('description'), var_name, unit_id,
            'description'),
        'domain': output_kpis.unit_text(spec.get('domain'), var_name, unit_id, 'domain',
            required=false, default=unit_id),
        'unit_name': output_kpis.unit_text(spec.get('unit_name'), var_name, unit_id, 'unit_name',
            required=false, default='units'),
        'relation': output_kpis.parse_unit_relation(spec.get('relation'), var_name, unit_id,
            'relation'),
        'key': output_kpis.unit_column(spec, 'key', var_name, unit_id),
        'completed_at': output_kpis.unit_column(spec, 'completed_at', var_name, unit_id),
        'time_zone': zone,
        'time_zone_column': zone_column,
        'naive_timestamps': output_kpis.unit_choice(spec.get('naive_timestamps'),
            ['utc', 'local', 'quarantine'],
            'utc' if output_kpis.naive_timestamps_are_utc() else 'quarantine', var_name, unit_id,
            'naive_timestamps'),
        'counts_when': output_kpis.unit_predicate(spec.get('counts_when'), var_name, unit_id,
            'counts_when') if spec.get('counts_when') is not none else none,
        'excluded': excluded,
        'dimensions': dimensions,
        'quality': quality,
        'deadline': deadline,
        'actor': output_kpis.unit_column(spec, 'actor', var_name, unit_id, required=false),
        'actor_dimensions': actor_dimensions | list,
        'kpis': [],
    } -%}
    {%- set kpis = spec.get('kpis') -%}
    {%- if kpis is not mapping or kpis | length == 0 -%}
        {{ output_kpis.unit_error(var_name, unit_id, 'kpis',
            'must name at least one KPI: {<kpi id>: {measure, name, owner, target, ...}}') }}
    {%- endif -%}
    {%- for kpi_id, kpi_spec in kpis.items() -%}
        {%- do unit.kpis.append(output_kpis.normalize_unit_kpi(unit, kpi_id, kpi_spec, var_name)) -%}
    {%- endfor -%}
    {{ return(unit) }}
{%- endmacro %}


{% macro unit_declarations(include_disabled=false) -%}
    {#- Every declared unit, normalised and checked, in var order. A built-in declaration of a
        disabled domain is left out (include_disabled: kept, as the registry keeps a disabled
        domain's KPIs). Unit ids and KPI ids are unique across all of them. -#}
    {%- set units = [] -%}
    {%- set unit_origin = {} -%}
    {%- set kpi_origin = {} -%}
    {%- for var_name in output_kpis.unit_declaration_vars() -%}
        {%- set declared = var(var_name, {}) -%}
        {%- if declared is none -%}{%- set declared = {} -%}{%- endif -%}
        {%- if declared is not mapping -%}
            {{ exceptions.raise_compiler_error(
                "var '" ~ var_name ~ "' must be a mapping {<unit id>: <declaration>} "
                ~ "(docs/adding_a_kpi.md); got '" ~ declared ~ "'") }}
        {%- endif -%}
        {%- for unit_id, spec in declared.items() -%}
            {%- set unit = output_kpis.normalize_unit(var_name, unit_id, spec) -%}
            {%- set domain_switch = unit.domain in output_kpis.output_domains() -%}
            {%- if include_disabled or var_name != 'output_kpis_builtin_units'
                or not domain_switch or output_kpis.domain_enabled(unit.domain) -%}
                {%- if unit.unit_id in unit_origin -%}
                    {{ output_kpis.unit_error(var_name, unit.unit_id, none,
                        'is declared twice (also in var ' ~ unit_origin[unit.unit_id] ~ ')') }}
                {%- endif -%}
                {%- do unit_origin.update({unit.unit_id: var_name}) -%}
                {%- for kpi in unit.kpis -%}
                    {%- if kpi.kpi_id in kpi_origin -%}
                        {{ output_kpis.unit_error(var_name, unit.unit_id, 'kpis',
                            "duplicate KPI id '" ~ kpi.kpi_id ~ "' (also declared by unit "
                            ~ kpi_origin[kpi.kpi_id] ~ ")") }}
                    {%- endif -%}
                    {%- do kpi_origin.update({kpi.kpi_id: unit.unit_id}) -%}
                {%- endfor -%}
                {%- do units.append(unit) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(units) }}
{%- endmacro %}


{% macro declared_kpis(include_disabled=false) -%}
    {#- Every declared KPI (normalize_unit_kpi), unit by unit. -#}
    {%- set kpis = [] -%}
    {%- for unit in output_kpis.unit_declarations(include_disabled) -%}
        {%- for kpi in unit.kpis -%}{%- do kpis.append(kpi) -%}{%- endfor -%}
    {%- endfor -%}
    {{ return(kpis) }}
{%- endmacro %}


{% macro declared_dimension_names() -%}
    {#- The union of the declared dimension names: the dim_<name> columns of the unit rows. -#}
    {%- set names = [] -%}
    {%- for unit in output_kpis.unit_declarations() -%}
        {%- for dimension in unit.dimensions if dimension.name not in names -%}
            {%- do names.append(dimension.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro sql_literal(value) -%}
    {#- A Jinja value as a SQL literal: null, a number, or quoted text. -#}
    {%- if value is none -%}null
    {%- elif value is number and value is not sameas true and value is not sameas false -%}{{ value }}
    {%- else -%}'{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}


{% macro rows_as_select(rows, columns) -%}
    {#- A union of one-row selects (typed by `columns`: [(name, type)]) or, with no rows, an
        empty typed select: how declarations become relations. -#}
    {%- if rows | length == 0 -%}
        select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
        where 1 = 0
    {%- else -%}
        {%- for row in rows %}
        select
            {%- for name, type in columns %}
            cast({{ output_kpis.sql_literal(row[name]) }} as {{ type }}) as {{ name }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}


{% macro declared_instant(text, time_zone, naive_timestamps) -%}
    {#- A declared unit's completion or deadline text -> naive UTC timestamp: a date is its
        local midnight; text with Z or an offset is the instant it names; a wall time without
        zone is UTC, local (in the unit's zone) or null (quarantined), as the declaration's
        naive_timestamps says. Null when unreadable. -#}
    {%- set day = output_kpis.cast_or_null(text, 'date') -%}
    case
        when {{ day }} is not null
            then {{ output_kpis.local_to_utc('cast(' ~ day ~ ' as timestamp)', time_zone) }}
        when {{ output_kpis.has_utc_offset(text) }} then {{ output_kpis.iso_instant(text) }}
        {%- if naive_timestamps == 'utc' %}
        else {{ output_kpis.iso_wall_time(text) }}
        {%- elif naive_timestamps == 'local' %}
        else {{ output_kpis.local_to_utc(output_kpis.iso_wall_time(text), time_zone) }}
        {%- endif %}
    end
{%- endmacro %}


{% macro declared_registry_rows() -%}
    {#- The registry rows of the declared KPIs, as a select with kpi_registry's columns plus
        unit_model, ge_suite, mart and unit_id: the hub reads them beside the seed. -#}
    {%- set text = output_kpis.type_text() -%}
    {%- set rows = [] -%}
    {%- for kpi in output_kpis.declared_kpis(include_disabled=true) -%}
        {%- do rows.append(dict(kpi, unit_model='int_units__declared_units',
            ge_suite='units__' ~ kpi.unit_id,
            mart='fct_outcome_values' if kpi.layer == 'outcome' else 'fct_kpi_values')) -%}
    {%- endfor -%}
    {{ output_kpis.rows_as_select(rows, [
        ('kpi_id', text), ('kpi_name', text), ('layer', text), ('kind', text), ('domain', text),
        ('unit_of_output', text), ('formula', text), ('aggregation', text),
        ('multiplier', 'integer'), ('unit', text), ('direction', text), ('owner', text),
        ('review_cadence', text), ('target_method', text), ('bsc_perspective', text),
        ('exclusions', text), ('unit_model', text), ('ge_suite', text), ('mart', text),
        ('unit_id', text)]) }}
{%- endmacro %}


{% macro declared_link_rows() -%}
    {%- set text = output_kpis.type_text() -%}
    {%- set rows = [] -%}
    {%- for kpi in output_kpis.declared_kpis(include_disabled=true) -%}
        {%- for link in kpi.outcomes -%}
            {%- do rows.append(dict(link, output_kpi_id=kpi.kpi_id)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ output_kpis.rows_as_select(rows, [('output_kpi_id', text), ('outcome_kpi_id', text),
        ('expected_relationship', text), ('rationale', text)]) }}
{%- endmacro %}


{% macro declared_pair_rows() -%}
    {%- set text = output_kpis.type_text() -%}
    {%- set rows = [] -%}
    {%- for kpi in output_kpis.declared_kpis(include_disabled=true) -%}
        {%- for pair in kpi.pairs -%}
            {%- do rows.append(dict(pair, volume_kpi_id=kpi.kpi_id)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ output_kpis.rows_as_select(rows, [('volume_kpi_id', text), ('quality_kpi_id', text),
        ('rationale', text)]) }}
{%- endmacro %}


{% macro declared_target_rows() -%}
    {#- Stated targets of the declared KPIs, with the layer that says which seed they join
        (outcome_targets or output_targets). -#}
    {%- set text = output_kpis.type_text() -%}
    {%- set rows = [] -%}
    {%- for kpi in output_kpis.declared_kpis(include_disabled=true) -%}
        {%- for target in kpi.target.stated -%}
            {%- do rows.append(dict(target, kpi_id=kpi.kpi_id, layer=kpi.layer)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ output_kpis.rows_as_select(rows, [('kpi_id', text), ('grain', text), ('valid_from', 'date'),
        ('valid_to', 'date'), ('dimension_name', text), ('dimension_value', text),
        ('target_value', output_kpis.type_double()), ('note', text), ('layer', text)]) }}
{%- endmacro %}


{% macro declared_driver_rows() -%}
    {#- Driver-tree nodes of the declared KPIs whose target is derived_from another KPI: node
        declared__<kpi>, under the parent KPI's node (resolved in int_governance__driver_tree). -#}
    {%- set text = output_kpis.type_text() -%}
    {%- set rows = [] -%}
    {%- for kpi in output_kpis.declared_kpis(include_disabled=true) if kpi.target.derived is not none -%}
        {%- do rows.append(dict(kpi.target.derived, kpi_id=kpi.kpi_id)) -%}
    {%- endfor -%}
    {{ output_kpis.rows_as_select(rows, [('kpi_id', text), ('parent_kpi_id', text),
        ('operation', text), ('driver_name', text),
        ('driver_value', output_kpis.type_double()), ('description', text)]) }}
{%- endmacro %}


{% macro declared_kpi_condition(column, layer) -%}
    {#- SQL predicate: column names a declared KPI of the layer (output or outcome). -#}
    {%- set ids = [] -%}
    {%- for kpi in output_kpis.declared_kpis() if kpi.layer == layer -%}
        {%- do ids.append(kpi.kpi_id) -%}
    {%- endfor -%}
    {%- if ids -%}
        {{ return(column ~ " in ('" ~ ids | join("', '") ~ "')") }}
    {%- endif -%}
    {{ return('1 = 0') }}
{%- endmacro %}


{% macro check_unit_declarations() -%}
    {#- On-run-start hook: every declaration whose relation already exists is checked against
        the warehouse before any model runs (int_units__declared_units checks the rest when it
        compiles, its relations built by then). A bad one stops the run naming the var, the unit
        and the field: a missing relation, a column the relation lacks, a predicate the engine
        cannot compile, a time zone it does not know, a KPI id the kpi_registry seed already
        has. Not on `dbt seed`, which reads no declaration and may load the very tables they
        name. -#}
    {%- if execute and flags.WHICH != 'seed' -%}
        {%- set units = output_kpis.unit_declarations() -%}
        {%- for unit in units -%}
            {%- do output_kpis.check_unit_declaration(unit,
                output_kpis.unit_relation_in_graph(unit), in_hook=true) -%}
        {%- endfor -%}
        {%- set registry = output_kpis.unit_relation_in_graph(
            {'unit_id': 'kpi_registry', 'origin': 'output_kpis',
             'relation': {'kind': 'ref', 'args': ['kpi_registry'], 'text': "ref('kpi_registry')"}}) -%}
        {%- set registry = load_relation(registry) if registry is not none else none -%}
        {%- if registry is not none and units -%}
            {%- set seeded = run_query('select kpi_id from ' ~ registry).columns[0].values() | list -%}
            {%- for unit in units -%}
                {%- for kpi in unit.kpis if kpi.kpi_id in seeded -%}
                    {{ output_kpis.unit_error(unit.origin, unit.unit_id, 'kpis',
                        "duplicate KPI id '" ~ kpi.kpi_id ~ "': the kpi_registry seed defines it") }}
                {%- endfor -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{% macro unit_relation_in_graph(unit) -%}
    {#- The relation a declaration names, looked up in the graph (a hook cannot call ref() on
        a node it does not depend on); none when the graph has no such node. -#}
    {%- set parsed = unit.relation -%}
    {%- set name = parsed.args[-1] -%}
    {%- if parsed.kind == 'source' -%}
        {%- for node in graph.sources.values()
            if node.source_name == parsed.args[0] and node.name == name -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema,
                identifier=node.identifier)) }}
        {%- endfor -%}
    {%- else -%}
        {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'seed', 'snapshot') and node.name == name
            and (parsed.args | length == 1 or node.package_name == parsed.args[0]) -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema,
                identifier=node.alias)) }}
        {%- endfor -%}
    {%- endif -%}
    {{ output_kpis.unit_error(unit.origin, unit.unit_id, 'relation',
        parsed.text ~ " names no " ~ ('source table' if parsed.kind == 'source' else 'model or seed')
        ~ " of this project") }}
{%- endmacro %}


{% macro check_unit_declaration(unit, relation, in_hook=false) -%}
    {#- The warehouse checks of one declaration (check_unit_declarations). In the hook, a ref
        not built yet is left to the model; a source must exist. -#}
    {%- set found = load_relation(relation) -%}
    {%- if found is none -%}
        {%- if unit.relation.kind == 'source' or not in_hook -%}
            {{ output_kpis.unit_error(unit.origin, unit.unit_id, 'relation',
                unit.relation.text ~ " names " ~ relation ~ ", which does not exist") }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(found) | map(attribute='name')
        | map('lower') | list -%}
    {%- set named = [('key', unit.key), ('completed_at', unit.completed_at)] -%}
    {%- if unit.deadline -%}{%- do named.append(('deadline.column', unit.deadline.column)) -%}{%- endif -%}
    {%- if unit.actor -%}{%- do named.append(('actor', unit.actor)) -%}{%- endif -%}
    {%- if unit.time_zone_column -%}
        {%- do named.append(('time_zone.column', unit.time_zone_column)) -%}
    {%- endif -%}
    {%- for dimension in unit.dimensions -%}
        {%- do named.append(('dimensions.' ~ dimension.name, dimension.column)) -%}
    {%- endfor -%}
    {%- for field, column in named if column not in columns -%}
        {{ output_kpis.unit_error(unit.origin, unit.unit_id, field,
            "column '" ~ column ~ "' is not in " ~ found ~ " (its columns: "
            ~ columns | join(', ') ~ ")") }}
    {%- endfor -%}
    {%- set predicates = [] -%}
    {%- if unit.counts_when -%}{%- do predicates.append(('counts_when', unit.counts_when)) -%}{%- endif -%}
    {%- for exclusion in unit.excluded -%}
        {%- do predicates.append(('excluded.when (' ~ exclusion.reason ~ ')', exclusion.when)) -%}
    {%- endfor -%}
    {%- if unit.quality -%}{%- do predicates.append(('quality.when', unit.quality.when)) -%}{%- endif -%}
    {%- for field, predicate in predicates -%}
        {%- do output_kpis.check_unit_predicate(unit, field, predicate, found, columns) -%}
    {%- endfor -%}
    {%- if not unit.time_zone_column -%}
        {%- set query -%}
            select count(*) from ({{ output_kpis.known_time_zones_sql() }}) as zones
            where time_zone_name = '{{ unit.time_zone }}'
        {%- endset -%}
        {%- if run_query(query).columns[0].values()[0] == 0 -%}
            {{ output_kpis.unit_error(unit.origin, unit.unit_id, 'time_zone',
                "'" ~ unit.time_zone ~ "' is no time zone the " ~ target.type
                ~ " engine knows (pg_timezone_names on DuckDB and PostgreSQL)") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro check_unit_predicate(unit, field, predicate, relation, columns) -%}
    {{ return(adapter.dispatch('check_unit_predicate', 'output_kpis')(
        unit, field, predicate, relation, columns)) }}
{%- endmacro %}

{% macro default__check_unit_predicate(unit, field, predicate, relation, columns) -%}
    {#- Other engines: the predicate runs once on no rows; a failure is the engine's own
        message. -#}
    {%- do run_query('select 1 from ' ~ relation ~ ' where (' ~ predicate ~ ') and 1 = 0') -%}
{%- endmacro %}

{% macro duckdb__check_unit_predicate(unit, field, predicate, relation, columns) -%}
    {#- DuckDB parses the predicate without running it (json_serialize_sql): a syntax error, or
        a column reference the relation lacks, fails naming the field. -#}
    {%- set statement = 'select 1 from t where (' ~ predicate ~ ')' -%}
    {%- set parsed = fromjson(run_query("select json_serialize_sql('"
        ~ statement | replace("'", "''") ~ "')").columns[0].values()[0]) -%}
    {%- if parsed.get('error') -%}
        {{ output_kpis.unit_error(unit.origin, unit.unit_id, field,
            "does not compile: " ~ parsed.error_message ~ " in '" ~ predicate ~ "'") }}
    {%- endif -%}
    {%- for name in output_kpis.json_column_refs(parsed) if name | lower not in columns -%}
        {{ output_kpis.unit_error(unit.origin, unit.unit_id, field,
            "names column '" ~ name ~ "', which is not in " ~ relation ~ " (its columns: "
            ~ columns | join(', ') ~ ")") }}
    {%- endfor -%}
{%- endmacro %}

{% macro postgres__check_unit_predicate(unit, field, predicate, relation, columns) -%}
    {#- PostgreSQL runs the predicate on no rows inside a block that turns any error into one
        naming the field. -#}
    {%- set where = ("var '" ~ unit.origin ~ "', unit '" ~ unit.unit_id ~ "', field '" ~ field
        ~ "'") | replace("'", "''") -%}
    {%- set probe = ('perform 1 from ' ~ relation ~ ' where (' ~ predicate ~ ') and false')
        | replace("'", "''") -%}
    {%- call statement('check_unit_predicate') -%}
        do $output_kpis$
        begin
            execute '{{ probe | replace('perform', 'select') }}';
        exception when others then
            raise exception '%: does not compile: %', '{{ where }}', sqlerrm;
        end
        $output_kpis$
    {%- endcall -%}
{%- endmacro %}


{% macro json_column_refs(node) -%}
    {#- The column names a json_serialize_sql tree references (the last part of each). -#}
    {%- set names = [] -%}
    {%- if node is mapping -%}
        {%- if node.get('class') == 'COLUMN_REF' -%}
            {%- do names.append(node.column_names[-1]) -%}
        {%- endif -%}
        {%- for value in node.values() -%}
            {%- do names.extend(output_kpis.json_column_refs(value)) -%}
        {%- endfor -%}
    {%- elif node is iterable and node is not string -%}
        {%- for value in node -%}
            {%- do names.extend(output_kpis.json_column_refs(value)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}


{% macro row_text(columns) -%}
    {#- A whole row as text no other row shares: each value length-prefixed (5:C0001), null as
        -, so C0001|TM1 + A1 and C0001 + TM1|A1 differ. Two rows are copies exactly when their
        texts are equal. -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- set value = 'cast(' ~ adapter.quote(column) ~ ' as ' ~ output_kpis.type_text() ~ ')' -%}
        {%- do parts.append("coalesce(cast(length(" ~ value ~ ") as " ~ output_kpis.type_text()
            ~ ") || ':' || " ~ value ~ ", '-')") -%}
    {%- endfor -%}
    {{ return(parts | join(" || '|' || ") if parts else "''") }}
{%- endmacro %}
