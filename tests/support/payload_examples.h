/*
 * payload_examples: the job payloads of SIDEKIQ-PROTOCOL.md §2.2 and §2.4, byte for byte as
 * Ruby Sidekiq 6.4.1 (and Rails 6.1.7 ActiveJob) wrote them, for the unit tests.
 */
#ifndef WINCH_PAYLOAD_EXAMPLES_H
#define WINCH_PAYLOAD_EXAMPLES_H

/* clang-format off */

/* A plain job in queue:default. */
#define EX_PLAIN_JOB \
	"{\"retry\":true,\"queue\":\"default\",\"args\":[1,\"two\",{\"three\":3}]," \
	"\"class\":\"OkJob\"," \
	"\"jid\":\"b5af1712fc33ab3186279caf\",\"created_at\":1795797610.9403284," \
	"\"enqueued_at\":1795797610.94076}"

/* A member of `schedule` (score 1795801210.9430647): no `at`, no `enqueued_at`. */
#define EX_SCHEDULED_JOB \
	"{\"retry\":true,\"queue\":\"default\",\"class\":\"OkJob\",\"args\":[\"later\"]," \
	"\"jid\":\"59dae77f53fa7ddf32a12f29\",\"created_at\":1795797610.943112}"

/* A member of `retry` after the first failure (backtrace: 3, retry: 2); backtrace elided. */
#define EX_RETRY_JOB \
	"{\"retry\":2,\"queue\":\"default\",\"backtrace\":3,\"args\":[7],\"class\":\"FailJob\"," \
	"\"jid\":\"4111b8224cc6b51d59fab755\",\"created_at\":1795797610.94225," \
	"\"enqueued_at\":1795797610.9422736,\"error_message\":\"boom 7\"," \
	"\"error_class\":\"ArgumentError\",\"failed_at\":1795797613.7632022,\"retry_count\":0," \
	"\"error_backtrace\":\"eJy1zUEKwjAQQNGrhGyqYDNUStBeRUSTONbYtIkzqdTbW4sewe3nwztIyH0C\\n" \
	"7nBK...FnP8joU8vgEACFuZ\\n\"}"

/* A member of `dead` for retry: 0. */
#define EX_DEAD_JOB \
	"{\"retry\":0,\"queue\":\"default\",\"args\":[],\"class\":\"ZeroRetryJob\"," \
	"\"jid\":\"8d8e39eeeb9cb4240f3445d2\",\"created_at\":1795797610.9428434," \
	"\"enqueued_at\":1795797610.942865,\"error_message\":\"zero\"," \
	"\"error_class\":\"RuntimeError\",\"failed_at\":1795797613.7661488,\"retry_count\":0}"

/* Sidekiq 8's units: integer milliseconds. */
#define EX_GEN8_JOB \
	"{\"retry\":true,\"queue\":\"default\",\"args\":[],\"class\":\"OkJob\"," \
	"\"jid\":\"0123456789abcdef01234567\",\"created_at\":1734000000123," \
	"\"enqueued_at\":1734000000125,\"failed_at\":1734000001456,\"retry_count\":0}"

/*
 * MyJob.perform_later(1, "s", :sym, {"a"=>1, b: 2}, user42, Time.utc(2024,1,2,3,4,5), 1.5,
 * nil, [1,[2]]) with queue_as :mailers, line breaks as printed in the spec.
 */
#define EX_ACTIVEJOB_JOB \
	"{\"retry\":true,\"queue\":\"mailers\"," \
	"\"class\":\"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper\"," \
	"\"wrapped\":\"MyJob\",\n" \
	" \"args\":[{\"job_class\":\"MyJob\",\"job_id\":\"bb027ec8-4621-4b9f-9be8-a0f80b9b07b5\"," \
	"\"provider_job_id\":null,\n" \
	"   \"queue_name\":\"mailers\",\"priority\":null,\n" \
	"   \"arguments\":[1,\"s\"," \
	"{\"_aj_serialized\":\"ActiveJob::Serializers::SymbolSerializer\",\"value\":\"sym\"},\n" \
	"     {\"a\":1,\"b\":2,\"_aj_symbol_keys\":[\"b\"]}," \
	"{\"_aj_globalid\":\"gid://myapp/User/42\"},\n" \
	"     {\"_aj_serialized\":\"ActiveJob::Serializers::TimeSerializer\"," \
	"\"value\":\"2024-01-02T03:04:05.000000000Z\"},\n" \
	"     1.5,null,[1,[2]]],\n" \
	"   \"executions\":0,\"exception_executions\":{},\"locale\":\"en\",\"timezone\":null," \
	"\"enqueued_at\":\"2026-11-27T16:43:08Z\"}],\n" \
	" \"jid\":\"db8bdf8fcf21c6fed9e1edef\",\"created_at\":1795797788.9723458," \
	"\"enqueued_at\":1795797788.972601}"

/* KwJob.perform_later(7, b: "x"): the arguments only. */
#define EX_ACTIVEJOB_KW_ARGS "[7,{\"b\":\"x\",\"_aj_ruby2_keywords\":[\"b\"]}]"

/* clang-format on */

#endif
