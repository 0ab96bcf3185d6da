-- The head schema for SQLite; written by scripts/sqlite_schema.py, do not edit.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_users PRIMARY KEY (id), 
	CONSTRAINT ck_users_role CHECK (role IN ('admin', 'author', 'user')), 
	CONSTRAINT uq_users_name UNIQUE (name)
);
CREATE TABLE api_keys (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	revoked_at DATETIME, expires_at DATETIME, scoped BOOLEAN DEFAULT 0 NOT NULL, 
	CONSTRAINT pk_api_keys PRIMARY KEY (id), 
	CONSTRAINT fk_api_keys_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash)
);
CREATE TABLE mcp_services (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	display_name VARCHAR(200) NOT NULL, 
	description TEXT NOT NULL, 
	category VARCHAR(100), 
	tags JSON NOT NULL, 
	author_id INTEGER NOT NULL, 
	repository_url VARCHAR(500), 
	documentation_url VARCHAR(500), 
	icon_url VARCHAR(500), 
	readme TEXT, 
	price_model VARCHAR(16) NOT NULL, 
	price_per_request NUMERIC(12, 6) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	deprecation_message TEXT, 
	featured BOOLEAN NOT NULL, 
	downloads_count BIGINT NOT NULL, 
	rating_average FLOAT NOT NULL, 
	rating_count INTEGER NOT NULL, 
	rating_sum INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	published_at DATETIME, 
	CONSTRAINT pk_mcp_services PRIMARY KEY (id), 
	CONSTRAINT ck_mcp_services_price_model CHECK (price_model IN ('FREE', 'PAID', 'FREEMIUM')), 
	CONSTRAINT ck_mcp_services_status CHECK (status IN ('DRAFT', 'PUBLISHED', 'DEPRECATED')), 
	CONSTRAINT ck_mcp_services_rating_count CHECK (rating_count >= 0), 
	CONSTRAINT fk_mcp_services_author_id_users FOREIGN KEY(author_id) REFERENCES users (id), 
	CONSTRAINT uq_mcp_services_name UNIQUE (name)
);
CREATE TABLE service_reviews (
	id INTEGER NOT NULL, 
	service_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	rating INTEGER NOT NULL, 
	comment TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_service_reviews PRIMARY KEY (id), 
	CONSTRAINT ck_service_reviews_rating CHECK (rating BETWEEN 1 AND 5), 
	CONSTRAINT fk_service_reviews_service_id_mcp_services FOREIGN KEY(service_id) REFERENCES mcp_services (id) ON DELETE CASCADE, 
	CONSTRAINT fk_service_reviews_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	CONSTRAINT uq_service_reviews_service_id_user_id UNIQUE (service_id, user_id)
);
CREATE TABLE service_tags (
	service_id INTEGER NOT NULL, 
	tag VARCHAR(100) NOT NULL, 
	CONSTRAINT pk_service_tags PRIMARY KEY (service_id, tag), 
	CONSTRAINT fk_service_tags_service_id_mcp_services FOREIGN KEY(service_id) REFERENCES mcp_services (id) ON DELETE CASCADE
);
CREATE TABLE service_versions (
	id INTEGER NOT NULL, 
	service_id INTEGER NOT NULL, 
	version VARCHAR(255) NOT NULL, 
	changelog TEXT NOT NULL, 
	docker_image VARCHAR(500), 
	packages JSON NOT NULL, 
	command JSON NOT NULL, 
	transport VARCHAR(32) NOT NULL, 
	config_schema JSON NOT NULL, 
	api_spec JSON NOT NULL, 
	remotes JSON NOT NULL, 
	is_latest BOOLEAN NOT NULL, 
	is_prerelease BOOLEAN NOT NULL, 
	published_at DATETIME, 
	created_at DATETIME NOT NULL, system_packages JSON DEFAULT '[]' NOT NULL, session_mode VARCHAR(16), pass_env JSON DEFAULT '[]' NOT NULL, 
	CONSTRAINT pk_service_versions PRIMARY KEY (id), 
	CONSTRAINT fk_service_versions_service_id_mcp_services FOREIGN KEY(service_id) REFERENCES mcp_services (id) ON DELETE CASCADE, 
	CONSTRAINT uq_service_versions_service_id_version UNIQUE (service_id, version)
);
CREATE TABLE service_deployments (
	id INTEGER NOT NULL, 
	service_id INTEGER NOT NULL, 
	version_id INTEGER NOT NULL, 
	previous_version_id INTEGER, 
	user_id INTEGER NOT NULL, 
	deployment_name VARCHAR(100) NOT NULL, 
	config JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	desired_state VARCHAR(16) NOT NULL, 
	endpoint_url VARCHAR(500), 
	runtime VARCHAR(16) NOT NULL, 
	replicas INTEGER NOT NULL, 
	cpu_limit FLOAT, 
	memory_limit_mb INTEGER, 
	session_mode VARCHAR(16) NOT NULL, 
	autoscale JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, uid VARCHAR(32) DEFAULT '' NOT NULL, driver VARCHAR(16), target_version_id INTEGER, rollout_deadline DATETIME, status_reason TEXT, image_digests JSON DEFAULT '{}' NOT NULL, pass_env JSON DEFAULT '[]' NOT NULL, drift VARCHAR(8) DEFAULT 'alert' NOT NULL, audit_arguments VARCHAR(8) DEFAULT 'digest' NOT NULL, settings_changed_at DATETIME, 
	CONSTRAINT pk_service_deployments PRIMARY KEY (id), 
	CONSTRAINT ck_service_deployments_replicas CHECK (replicas >= 0), 
	CONSTRAINT fk_service_deployments_previous_version_id_service_versions FOREIGN KEY(previous_version_id) REFERENCES service_versions (id), 
	CONSTRAINT fk_service_deployments_service_id_mcp_services FOREIGN KEY(service_id) REFERENCES mcp_services (id), 
	CONSTRAINT fk_service_deployments_user_id_users FOREIGN KEY(user_id) REFERENCES users (id), 
	CONSTRAINT fk_service_deployments_version_id_service_versions FOREIGN KEY(version_id) REFERENCES service_versions (id), 
	CONSTRAINT uq_service_deployments_user_id_deployment_name UNIQUE (user_id, deployment_name)
);
CREATE TABLE service_usage (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	request_count BIGINT NOT NULL, 
	response_time_avg FLOAT NOT NULL, 
	error_count BIGINT NOT NULL, 
	data_transfer_mb FLOAT NOT NULL, 
	cost NUMERIC(14, 6) NOT NULL, 
	date DATE NOT NULL, response_time_total_us BIGINT DEFAULT '0' NOT NULL, data_transfer_bytes BIGINT DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_service_usage PRIMARY KEY (id), 
	CONSTRAINT fk_service_usage_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT fk_service_usage_user_id_users FOREIGN KEY(user_id) REFERENCES users (id), 
	CONSTRAINT uq_service_usage_deployment_id_user_id_date UNIQUE (deployment_id, user_id, date)
);
CREATE VIRTUAL TABLE service_search USING fts5(
    name, display_name, tags, description, facets,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6'
);
CREATE TABLE deployment_history (
	id INTEGER NOT NULL, 
	deployment_id INTEGER, 
	deployment_name VARCHAR(100) NOT NULL, 
	user_id INTEGER, 
	actor VARCHAR(100) NOT NULL, 
	at DATETIME NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	changes JSON NOT NULL, 
	reason TEXT NOT NULL, 
	automatic BOOLEAN NOT NULL, 
	CONSTRAINT pk_deployment_history PRIMARY KEY (id), 
	CONSTRAINT fk_deployment_history_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE SET NULL, 
	CONSTRAINT fk_deployment_history_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE TABLE deployment_secrets (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	ciphertext TEXT NOT NULL, 
	CONSTRAINT pk_deployment_secrets PRIMARY KEY (id), 
	CONSTRAINT fk_deployment_secrets_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT uq_deployment_secrets_deployment_id_name UNIQUE (deployment_id, name)
);
CREATE TABLE "service_instances" (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	version_id INTEGER, 
	container_id VARCHAR(128), 
	host VARCHAR(255), 
	port INTEGER, 
	status VARCHAR(16) NOT NULL, 
	health_check_url VARCHAR(500), 
	last_health_check DATETIME, 
	last_error TEXT, 
	stderr_tail TEXT, 
	restart_count INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	driver VARCHAR(16), 
	health VARCHAR(16) NOT NULL, 
	exit_code INTEGER, 
	next_restart_at DATETIME, 
	updated_at DATETIME NOT NULL, image_digest VARCHAR(500), 
	CONSTRAINT pk_service_instances PRIMARY KEY (id), 
	CONSTRAINT fk_service_instances_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT fk_service_instances_version_id_service_versions FOREIGN KEY(version_id) REFERENCES service_versions (id), 
	CONSTRAINT uq_service_instances_name UNIQUE (name)
);
CREATE TABLE request_log (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	instance_id VARCHAR(64), 
	user_id INTEGER, 
	method VARCHAR(64) NOT NULL, 
	tool_name VARCHAR(500), 
	status INTEGER NOT NULL, 
	error BOOLEAN NOT NULL, 
	error_code INTEGER, 
	latency_ms FLOAT NOT NULL, 
	bytes_in BIGINT NOT NULL, 
	bytes_out BIGINT NOT NULL, 
	at DATETIME NOT NULL, 
	CONSTRAINT pk_request_log PRIMARY KEY (id), 
	CONSTRAINT fk_request_log_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE
);
CREATE TABLE teams (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_teams PRIMARY KEY (id), 
	CONSTRAINT uq_teams_name UNIQUE (name)
);
CREATE TABLE team_members (
	team_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	added_at DATETIME NOT NULL, 
	CONSTRAINT pk_team_members PRIMARY KEY (team_id, user_id), 
	CONSTRAINT ck_team_members_role CHECK (role IN ('member', 'maintainer')), 
	CONSTRAINT fk_team_members_team_id_teams FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE CASCADE, 
	CONSTRAINT fk_team_members_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE deployment_shares (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	user_id INTEGER, 
	team_id INTEGER, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_deployment_shares PRIMARY KEY (id), 
	CONSTRAINT ck_deployment_shares_role CHECK (role IN ('caller', 'operator')), 
	CONSTRAINT ck_deployment_shares_one_grantee CHECK ((user_id IS NULL) <> (team_id IS NULL)), 
	CONSTRAINT fk_deployment_shares_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT fk_deployment_shares_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	CONSTRAINT fk_deployment_shares_team_id_teams FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE CASCADE, 
	CONSTRAINT uq_deployment_shares_deployment_id_user_id UNIQUE (deployment_id, user_id), 
	CONSTRAINT uq_deployment_shares_deployment_id_team_id UNIQUE (deployment_id, team_id)
);
CREATE TABLE api_key_deployments (
	key_id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	CONSTRAINT pk_api_key_deployments PRIMARY KEY (key_id, deployment_id), 
	CONSTRAINT fk_api_key_deployments_key_id_api_keys FOREIGN KEY(key_id) REFERENCES api_keys (id) ON DELETE CASCADE, 
	CONSTRAINT fk_api_key_deployments_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE
);
CREATE TABLE deployment_registry_logins (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	registry VARCHAR(255) NOT NULL, 
	username VARCHAR(255) NOT NULL, 
	ciphertext TEXT NOT NULL, 
	CONSTRAINT pk_deployment_registry_logins PRIMARY KEY (id), 
	CONSTRAINT fk_deployment_registry_logins_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT uq_deployment_registry_logins_deployment_id_registry UNIQUE (deployment_id, registry)
);
CREATE TABLE metrics_traffic (
	deployment_id INTEGER NOT NULL, 
	tier INTEGER NOT NULL, 
	grain INTEGER NOT NULL, 
	bucket BIGINT NOT NULL, 
	instance VARCHAR(64) NOT NULL, 
	tool VARCHAR(200) NOT NULL, 
	user_id INTEGER NOT NULL, 
	requests BIGINT NOT NULL, 
	errors_rpc BIGINT NOT NULL, 
	errors_http BIGINT NOT NULL, 
	errors_refused BIGINT NOT NULL, 
	latency_us BIGINT NOT NULL, 
	bytes_in BIGINT NOT NULL, 
	bytes_out BIGINT NOT NULL, 
	h00 BIGINT NOT NULL, 
	h01 BIGINT NOT NULL, 
	h02 BIGINT NOT NULL, 
	h03 BIGINT NOT NULL, 
	h04 BIGINT NOT NULL, 
	h05 BIGINT NOT NULL, 
	h06 BIGINT NOT NULL, 
	h07 BIGINT NOT NULL, 
	h08 BIGINT NOT NULL, 
	h09 BIGINT NOT NULL, 
	h10 BIGINT NOT NULL, 
	h11 BIGINT NOT NULL, 
	h12 BIGINT NOT NULL, 
	h13 BIGINT NOT NULL, 
	h14 BIGINT NOT NULL, 
	h15 BIGINT NOT NULL, 
	CONSTRAINT pk_metrics_traffic PRIMARY KEY (deployment_id, tier, grain, bucket, instance, tool, user_id), 
	CONSTRAINT fk_metrics_traffic_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE
)
 WITHOUT ROWID

;
CREATE TABLE metrics_instances (
	deployment_id INTEGER NOT NULL, 
	tier INTEGER NOT NULL, 
	bucket BIGINT NOT NULL, 
	instance VARCHAR(64) NOT NULL, 
	in_flight_max INTEGER NOT NULL, 
	sessions_max INTEGER NOT NULL, 
	restarts INTEGER NOT NULL, 
	cpu_sum FLOAT NOT NULL, 
	cpu_n INTEGER NOT NULL, 
	cpu_max FLOAT, 
	memory_sum FLOAT NOT NULL, 
	memory_n INTEGER NOT NULL, 
	memory_max FLOAT, 
	CONSTRAINT pk_metrics_instances PRIMARY KEY (deployment_id, tier, bucket, instance), 
	CONSTRAINT fk_metrics_instances_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE
)
 WITHOUT ROWID

;
CREATE TABLE metrics_rollups (
	tier INTEGER NOT NULL, 
	done_until BIGINT NOT NULL, 
	CONSTRAINT pk_metrics_rollups PRIMARY KEY (tier)
);
CREATE TABLE alert_rules (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	metric VARCHAR(32) NOT NULL, 
	op VARCHAR(2) NOT NULL, 
	threshold FLOAT NOT NULL, 
	window_s INTEGER NOT NULL, 
	for_s INTEGER NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	deployment_id INTEGER, 
	labels JSON NOT NULL, 
	description TEXT NOT NULL, 
	builtin BOOLEAN NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_alert_rules PRIMARY KEY (id), 
	CONSTRAINT fk_alert_rules_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT uq_alert_rules_name UNIQUE (name)
);
CREATE TABLE alerts (
	id INTEGER NOT NULL, 
	rule_id INTEGER NOT NULL, 
	deployment_id INTEGER, 
	fingerprint VARCHAR(64) NOT NULL, 
	labels JSON NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	value FLOAT, 
	started_at DATETIME NOT NULL, 
	fired_at DATETIME, 
	clear_since DATETIME, 
	resolved_at DATETIME, 
	notified_at DATETIME, 
	acknowledged_by VARCHAR(100), 
	CONSTRAINT pk_alerts PRIMARY KEY (id), 
	CONSTRAINT fk_alerts_rule_id_alert_rules FOREIGN KEY(rule_id) REFERENCES alert_rules (id) ON DELETE CASCADE, 
	CONSTRAINT fk_alerts_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE SET NULL
);
CREATE TABLE alert_silences (
	id INTEGER NOT NULL, 
	matchers JSON NOT NULL, 
	comment TEXT NOT NULL, 
	created_by VARCHAR(100) NOT NULL, 
	created_at DATETIME NOT NULL, 
	ends_at DATETIME NOT NULL, 
	CONSTRAINT pk_alert_silences PRIMARY KEY (id)
);
CREATE TABLE alert_targets (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	shown_url TEXT NOT NULL, 
	url_ciphertext TEXT NOT NULL, 
	secret_ciphertext TEXT, 
	created_by INTEGER, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_alert_targets PRIMARY KEY (id), 
	CONSTRAINT fk_alert_targets_created_by_users FOREIGN KEY(created_by) REFERENCES users (id) ON DELETE SET NULL, 
	CONSTRAINT uq_alert_targets_name UNIQUE (name)
);
CREATE TABLE alert_deliveries (
	id INTEGER NOT NULL, 
	target_id INTEGER NOT NULL, 
	alert VARCHAR(200) NOT NULL, 
	alert_state VARCHAR(16) NOT NULL, 
	notices JSON NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error TEXT, 
	next_attempt_at DATETIME, 
	created_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	CONSTRAINT pk_alert_deliveries PRIMARY KEY (id), 
	CONSTRAINT fk_alert_deliveries_target_id_alert_targets FOREIGN KEY(target_id) REFERENCES alert_targets (id) ON DELETE CASCADE
);
CREATE TABLE audit_events (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR(64) NOT NULL, 
	user_id INTEGER, 
	actor VARCHAR(100) NOT NULL, 
	via VARCHAR(16), 
	target VARCHAR(500) NOT NULL, 
	deployment_id INTEGER, 
	deployment VARCHAR(100), 
	owner_id INTEGER, 
	detail JSON NOT NULL, 
	CONSTRAINT pk_audit_events PRIMARY KEY (id)
);
CREATE TABLE definition_baselines (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	version_id INTEGER NOT NULL, 
	definitions JSON NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	checked_at DATETIME, 
	CONSTRAINT pk_definition_baselines PRIMARY KEY (id), 
	CONSTRAINT fk_definition_baselines_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT fk_definition_baselines_version_id_service_versions FOREIGN KEY(version_id) REFERENCES service_versions (id) ON DELETE CASCADE, 
	CONSTRAINT uq_definition_baselines_deployment_id_version_id UNIQUE (deployment_id, version_id)
);
CREATE TABLE definition_findings (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	version_id INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	name VARCHAR(500) NOT NULL, 
	change VARCHAR(16) NOT NULL, 
	old_definition JSON, 
	new_definition JSON, 
	new_digest VARCHAR(64), 
	diff TEXT NOT NULL, 
	detected_at DATETIME NOT NULL, 
	approved_by VARCHAR(100), 
	approved_at DATETIME, 
	CONSTRAINT pk_definition_findings PRIMARY KEY (id), 
	CONSTRAINT fk_definition_findings_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT fk_definition_findings_version_id_service_versions FOREIGN KEY(version_id) REFERENCES service_versions (id) ON DELETE CASCADE
);
CREATE TABLE service_prices (
	id INTEGER NOT NULL, 
	service_id INTEGER NOT NULL, 
	tool VARCHAR(200) NOT NULL, 
	price_model VARCHAR(16) NOT NULL, 
	unit_price NUMERIC(20, 10) NOT NULL, 
	free_requests BIGINT NOT NULL, 
	effective_from DATETIME NOT NULL, 
	set_by INTEGER, 
	set_at DATETIME NOT NULL, 
	CONSTRAINT pk_service_prices PRIMARY KEY (id), 
	CONSTRAINT ck_service_prices_price_model CHECK (price_model IN ('FREE', 'PAID', 'FREEMIUM')), 
	CONSTRAINT ck_service_prices_unit_price CHECK (unit_price >= 0), 
	CONSTRAINT ck_service_prices_free_requests CHECK (free_requests >= 0), 
	CONSTRAINT fk_service_prices_service_id_mcp_services FOREIGN KEY(service_id) REFERENCES mcp_services (id) ON DELETE CASCADE, 
	CONSTRAINT fk_service_prices_set_by_users FOREIGN KEY(set_by) REFERENCES users (id) ON DELETE SET NULL, 
	CONSTRAINT uq_service_prices_service_id_tool_effective_from UNIQUE (service_id, tool, effective_from)
);
CREATE TABLE invoices (
	id VARCHAR(40) NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	subject_kind VARCHAR(8) NOT NULL, 
	subject_id INTEGER NOT NULL, 
	subject_name VARCHAR(200) NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	requests BIGINT NOT NULL, 
	subtotal NUMERIC(20, 4) NOT NULL, 
	tax NUMERIC(20, 4) NOT NULL, 
	total NUMERIC(20, 4) NOT NULL, 
	issued_at DATETIME NOT NULL, 
	CONSTRAINT pk_invoices PRIMARY KEY (id), 
	CONSTRAINT ck_invoices_subject_kind CHECK (subject_kind IN ('user', 'team')), 
	CONSTRAINT uq_invoices_month_subject_kind_subject_id UNIQUE (month, subject_kind, subject_id)
);
CREATE TABLE invoice_lines (
	invoice_id VARCHAR(40) NOT NULL, 
	position INTEGER NOT NULL, 
	deployment VARCHAR(300) NOT NULL, 
	service VARCHAR(200) NOT NULL, 
	tool VARCHAR(200) NOT NULL, 
	price_model VARCHAR(16) NOT NULL, 
	unit_price NUMERIC(20, 10) NOT NULL, 
	requests BIGINT NOT NULL, 
	errors BIGINT NOT NULL, 
	free_requests BIGINT NOT NULL, 
	charged BIGINT NOT NULL, 
	amount NUMERIC(20, 4) NOT NULL, 
	CONSTRAINT pk_invoice_lines PRIMARY KEY (invoice_id, position), 
	CONSTRAINT fk_invoice_lines_invoice_id_invoices FOREIGN KEY(invoice_id) REFERENCES invoices (id) ON DELETE CASCADE
);
CREATE TABLE billing_month_closes (
	month VARCHAR(7) NOT NULL, 
	closed_at DATETIME NOT NULL, 
	invoices INTEGER NOT NULL, 
	CONSTRAINT pk_billing_month_closes PRIMARY KEY (month)
);
CREATE TABLE "service_usage_hours" (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	hour DATETIME NOT NULL, 
	method VARCHAR(64) NOT NULL, 
	tool VARCHAR(200) NOT NULL, 
	request_count BIGINT NOT NULL, 
	error_count BIGINT NOT NULL, 
	key_id INTEGER DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_service_usage_hours PRIMARY KEY (id), 
	CONSTRAINT fk_service_usage_hours_deployment_id_service_deployments FOREIGN KEY(deployment_id) REFERENCES service_deployments (id) ON DELETE CASCADE, 
	CONSTRAINT fk_service_usage_hours_user_id_users FOREIGN KEY(user_id) REFERENCES users (id), 
	CONSTRAINT uq_service_usage_hours_calls UNIQUE (deployment_id, user_id, hour, method, tool, key_id)
);
CREATE TABLE quotas (
	id INTEGER NOT NULL, 
	scope VARCHAR(16) NOT NULL, 
	subject_id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	period VARCHAR(16) NOT NULL, 
	allowed NUMERIC(20, 10) NOT NULL, 
	tool VARCHAR(200) NOT NULL, 
	created_by INTEGER, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_quotas PRIMARY KEY (id), 
	CONSTRAINT ck_quotas_scope CHECK (scope IN ('user', 'team', 'key', 'deployment')), 
	CONSTRAINT ck_quotas_kind CHECK (kind IN ('requests', 'spend', 'rate')), 
	CONSTRAINT ck_quotas_period CHECK (period IN ('second', 'day', 'month')), 
	CONSTRAINT ck_quotas_allowed CHECK (allowed > 0), 
	CONSTRAINT fk_quotas_created_by_users FOREIGN KEY(created_by) REFERENCES users (id) ON DELETE SET NULL, 
	CONSTRAINT uq_quotas_scope_subject_id_kind_period_tool UNIQUE (scope, subject_id, kind, period, tool)
);
CREATE TABLE usage_journals (
	epoch VARCHAR(32) NOT NULL, 
	started_at DATETIME NOT NULL, 
	written_requests BIGINT NOT NULL, 
	written_errors BIGINT NOT NULL, 
	recovered_at DATETIME, 
	lost_requests BIGINT NOT NULL, 
	lost_errors BIGINT NOT NULL, 
	CONSTRAINT pk_usage_journals PRIMARY KEY (epoch)
);
CREATE TABLE stored_secrets (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	ciphertext TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_stored_secrets PRIMARY KEY (id), 
	CONSTRAINT fk_stored_secrets_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	CONSTRAINT uq_stored_secrets_user_id_name UNIQUE (user_id, name)
);
CREATE INDEX ix_api_keys_prefix ON api_keys (prefix);
CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);
CREATE INDEX ix_mcp_services_author_id ON mcp_services (author_id);
CREATE INDEX ix_mcp_services_category ON mcp_services (category);
CREATE INDEX ix_mcp_services_created ON mcp_services (created_at);
CREATE INDEX ix_mcp_services_downloads ON mcp_services (downloads_count);
CREATE INDEX ix_mcp_services_rating ON mcp_services (rating_average);
CREATE INDEX ix_mcp_services_status ON mcp_services (status);
CREATE INDEX ix_service_reviews_service_id ON service_reviews (service_id);
CREATE INDEX ix_service_tags_tag ON service_tags (tag, service_id);
CREATE INDEX ix_service_versions_service_id ON service_versions (service_id);
CREATE INDEX ix_service_deployments_service_id ON service_deployments (service_id);
CREATE INDEX ix_service_deployments_user_id ON service_deployments (user_id);
CREATE INDEX ix_service_usage_user_id ON service_usage (user_id);
CREATE INDEX ix_search_rating ON mcp_services (rating_average, rating_count);
CREATE INDEX ix_search_name ON mcp_services (lower(name), name);
CREATE INDEX ix_deployment_history_deployment_id ON deployment_history (deployment_id);
CREATE INDEX ix_deployment_secrets_deployment_id ON deployment_secrets (deployment_id);
CREATE UNIQUE INDEX ix_service_deployments_uid ON service_deployments (uid);
CREATE INDEX ix_service_instances_deployment_id ON service_instances (deployment_id);
CREATE INDEX ix_request_log_deployment_at ON request_log (deployment_id, at);
CREATE INDEX ix_request_log_at ON request_log (at);
CREATE INDEX ix_team_members_user_id ON team_members (user_id);
CREATE INDEX ix_deployment_shares_deployment_id ON deployment_shares (deployment_id);
CREATE INDEX ix_deployment_shares_user_id ON deployment_shares (user_id);
CREATE INDEX ix_deployment_shares_team_id ON deployment_shares (team_id);
CREATE INDEX ix_api_keys_revoked_at ON api_keys (revoked_at);
CREATE INDEX ix_api_key_deployments_deployment_id ON api_key_deployments (deployment_id);
CREATE INDEX ix_deployment_registry_logins_deployment_id ON deployment_registry_logins (deployment_id);
CREATE INDEX ix_metrics_traffic_tier_bucket ON metrics_traffic (tier, bucket);
CREATE INDEX ix_metrics_instances_tier_bucket ON metrics_instances (tier, bucket);
CREATE INDEX ix_alerts_state_fingerprint ON alerts (state, fingerprint);
CREATE INDEX ix_alert_deliveries_target_state ON alert_deliveries (target_id, state, id);
CREATE INDEX ix_audit_events_at ON audit_events (at);
CREATE INDEX ix_audit_events_user_at ON audit_events (user_id, at);
CREATE INDEX ix_audit_events_owner_at ON audit_events (owner_id, at);
CREATE INDEX ix_audit_events_deployment_at ON audit_events (deployment, at);
CREATE INDEX ix_definition_findings_open ON definition_findings (deployment_id, approved_at);
CREATE INDEX ix_invoices_subject ON invoices (subject_kind, subject_id);
CREATE INDEX ix_service_usage_hours_user_hour ON service_usage_hours (user_id, hour);
CREATE INDEX ix_service_usage_hours_hour ON service_usage_hours (hour);
CREATE INDEX ix_stored_secrets_user_id ON stored_secrets (user_id);
CREATE TRIGGER service_search_insert AFTER INSERT ON mcp_services BEGIN
    INSERT INTO service_search (rowid, name, display_name, tags, description, facets) SELECT 
    new.id, new.name, new.display_name,
    (SELECT group_concat(t.value, ' ') FROM json_each(new.tags) AS t),
    new.description,
    '0s' || lower(new.status) || ' 0p' || lower(new.price_model)
        || ' 0f' || (CASE WHEN new.featured THEN 1 ELSE 0 END) || ' 0a' || new.author_id
        || coalesce(' 0c' || hex(lower(new.category)), '')
        || coalesce((SELECT ' ' || group_concat('0t' || hex(lower(t.value)), ' ')
                     FROM json_each(new.tags) AS t), '')
;
END;
CREATE TRIGGER service_search_update
AFTER UPDATE OF id, name, display_name, description, tags, category, status, price_model,
    featured, author_id ON mcp_services
BEGIN
    DELETE FROM service_search WHERE rowid = old.id;
    INSERT INTO service_search (rowid, name, display_name, tags, description, facets) SELECT 
    new.id, new.name, new.display_name,
    (SELECT group_concat(t.value, ' ') FROM json_each(new.tags) AS t),
    new.description,
    '0s' || lower(new.status) || ' 0p' || lower(new.price_model)
        || ' 0f' || (CASE WHEN new.featured THEN 1 ELSE 0 END) || ' 0a' || new.author_id
        || coalesce(' 0c' || hex(lower(new.category)), '')
        || coalesce((SELECT ' ' || group_concat('0t' || hex(lower(t.value)), ' ')
                     FROM json_each(new.tags) AS t), '')
;
END;
CREATE TRIGGER service_search_delete AFTER DELETE ON mcp_services BEGIN
    DELETE FROM service_search WHERE rowid = old.id;
END;
INSERT INTO "alembic_version" ("version_num") VALUES ('0021');
