# Demo, step 2: report what the worker did with the demo jobs, as Sidekiq::Stats and the
# sorted sets show it (the same data the Sidekiq Web UI reads).
#
#   REDIS_URL=... ruby tests/interop/demo_report.rb [--wait SECS] [--expect FILE]
#
# --wait SECS    first wait (at most SECS) until the work queues and the schedule are empty,
#                no job is running and, with --expect, the expected jobs have been counted
# --expect FILE  compare with what demo_enqueue.rb wrote; exit 1 if something differs
require "json"
require "optparse"
require "redis"
require "sidekiq"
require "sidekiq/api"

Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

wait = 0.0
expect_file = nil
OptionParser.new do |o|
  o.banner = "usage: REDIS_URL=... ruby #{File.basename(__FILE__)} [--wait SECS] [--expect FILE]"
  o.on("--wait SECS", Float) { |v| wait = v }
  o.on("--expect FILE") { |v| expect_file = v }
end.parse!

url = ENV["REDIS_URL"] or abort("demo_report: set REDIS_URL")
Sidekiq.configure_client { |c| c.redis = {url: url, size: 2} }
expected = expect_file ? JSON.parse(File.read(expect_file)) : nil

def reply_queue?(name)
  name.end_with?("_replies")
end

# Settled: work queues and schedule empty, nothing running, and the counts reached.
def settled?(expected)
  stats = Sidekiq::Stats.new
  queues = Sidekiq::Queue.all.reject { |q| reply_queue?(q.name) }
  return false unless queues.all? { |q| q.size.zero? } && stats.scheduled_size.zero?
  return false unless Sidekiq::Workers.new.size.zero?
  return true unless expected
  stats.processed >= expected["processed"] && stats.failed >= expected["failed"] &&
    stats.retry_size + stats.dead_size >= expected["retry"] + expected["dead"]
end

if wait > 0
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + wait
  until settled?(expected)
    if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      puts "(still not settled after #{wait} s; reporting anyway)"
      break
    end
    sleep 0.25
  end
end

def fmt_time(t)
  t ? Time.at(t).utc.strftime("%H:%M:%S.%L UTC") : "-"
end

def show_entry(label, entry)
  return puts("  (none)") unless entry
  name = entry.display_class
  name += " (#{entry.klass})" if name != entry.klass
  puts "  #{label}: #{name} jid=#{entry.jid} queue=#{entry.queue}"
  puts "    args          #{entry.display_args.inspect[0, 100]}"
  puts "    error         #{entry["error_class"]}: #{entry["error_message"]}"
  puts "    retry_count   #{entry["retry_count"]}   failed_at #{fmt_time(entry["failed_at"])}"
  if entry.parent.name == "retry"
    puts "    next attempt  #{fmt_time(entry.score)} (in #{(entry.score - Time.now.to_f).round(1)} s)"
  else
    puts "    died at       #{fmt_time(entry.score)}"
  end
  bt = entry.error_backtrace
  puts "    backtrace     #{bt.first(2).inspect}#{bt.size > 2 ? " (+#{bt.size - 2} more)" : ""}" if bt
end

stats = Sidekiq::Stats.new
today = Time.now.utc.strftime("%Y-%m-%d")
history = Sidekiq::Stats::History.new(1)
puts "Sidekiq::Stats (#{url})"
puts format("  processed  %6d   (today: %d)", stats.processed, history.processed[today].to_i)
puts format("  failed     %6d   (today: %d)", stats.failed, history.failed[today].to_i)
puts format("  enqueued   %6d   (jobs waiting in queues)", stats.enqueued)
puts format("  retry set  %6d", stats.retry_size)
puts format("  dead set   %6d", stats.dead_size)
puts format("  scheduled  %6d", stats.scheduled_size)
puts format("  processes  %6d   busy: %d", stats.processes_size, stats.workers_size)

puts "Queues"
Sidekiq::Queue.all.each do |q|
  note = reply_queue?(q.name) ? "  (replies; no worker serves this queue)" : ""
  puts format("  %-18s size %4d  latency %6.2f s%s", q.name, q.size, q.latency, note)
end

puts "Processes"
Sidekiq::ProcessSet.new.each do |p|
  puts "  #{p.identity}  concurrency #{p["concurrency"]}  busy #{p["busy"]}  queues #{p.queues.inspect}" \
    "  quiet #{p["quiet"]}  rss #{p["rss"]} KB"
end

puts "Retry set (#{stats.retry_size})"
retries = Sidekiq::RetrySet.new.to_a.sort_by(&:score)
show_entry("soonest", retries.first)
aj = retries.find { |e| e["wrapped"] }
show_entry("ActiveJob", aj) if aj && aj.jid != retries.first.jid

puts "Dead set (#{stats.dead_size})"
show_entry("latest", Sidekiq::DeadSet.new.first)

puts "Replies"
reply_counts = {}
Sidekiq::Queue.all.select { |q| reply_queue?(q.name) }.each do |q|
  reply_counts[q.name] = q.size
  sample = q.first
  puts "  #{q.name}: #{q.size} replies; e.g. #{sample&.klass} args=#{sample&.args.inspect}"
end

exit 0 unless expected

problems = []
check = lambda do |what, got, want, op = :==|
  problems << "#{what}: got #{got}, expected #{op == :== ? "" : "at least "}#{want}" unless got.public_send(op, want)
end
check.call("processed", stats.processed, expected["processed"], :>=)
check.call("failed", stats.failed, expected["failed"], :>=)
check.call("retry set", stats.retry_size, expected["retry"])
check.call("dead set", stats.dead_size, expected["dead"])
check.call("scheduled set", stats.scheduled_size, expected["scheduled"])
expected["queues"].each { |q| check.call("queue #{q}", Sidekiq::Queue.new(q).size, 0) }
expected["replies"].each { |q, n| check.call("replies in #{q}", reply_counts[q].to_i, n) }
if problems.empty?
  puts "All as expected: #{expected["total"]} jobs enqueued, each run; failures retried, killed or dropped as Sidekiq does."
else
  puts "NOT as expected:"
  problems.each { |p| puts "  #{p}" }
  exit 1
end
