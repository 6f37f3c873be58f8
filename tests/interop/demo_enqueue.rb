# Demo, step 1: enqueue a few hundred jobs with the real Ruby Sidekiq client (plain jobs and
# ActiveJob jobs; some fail, some are scheduled 3-5 s ahead) into the Redis at $REDIS_URL.
#
#   REDIS_URL=redis://127.0.0.1:6390/0 ruby tests/interop/demo_enqueue.rb [--aj-queue NAME] [--expect FILE]
#
# --aj-queue NAME  queue for the ActiveJob jobs (default "default", one worker serves all)
# --expect FILE    write what demo_report.rb should find, as JSON
require "json"
require "optparse"
require "sidekiq/api"
require_relative "../support/winch_active_jobs"

Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

aj_queue = "default"
expect_file = nil
OptionParser.new do |o|
  o.banner = "usage: REDIS_URL=... ruby #{File.basename(__FILE__)} [--aj-queue NAME] [--expect FILE]"
  o.on("--aj-queue NAME") { |v| aj_queue = v }
  o.on("--expect FILE") { |v| expect_file = v }
end.parse!

url = ENV["REDIS_URL"] or abort("demo_enqueue: set REDIS_URL")
Sidekiq.configure_client { |c| c.redis = {url: url, size: 2} }
Sidekiq.logger.level = Logger::WARN

now = Time.now.to_f
counts = Hash.new(0)
bulk = lambda do |label, item, args|
  Sidekiq::Client.push_bulk(item.merge("args" => args))
  counts[label] += args.size
end

# Plain Sidekiq jobs, pushed by class name as any Sidekiq client can.
bulk.call("Winch::Noop", {"class" => "Winch::Noop"}, 200.times.map { |i| [i] })
bulk.call("Winch::Echo", {"class" => "Winch::Echo"},
  50.times.map { |i| ["demo_replies", i, "héllo ✓", {"n" => i}] })
bulk.call("Winch::Digest", {"class" => "Winch::Digest"}, 20.times.map { |i| ["winch-#{i}", 2000] })
bulk.call("Winch::Fail (retry: true)", {"class" => "Winch::Fail", "backtrace" => true},
  10.times.map { |i| ["DemoError", "demo failure #{i}"] })
bulk.call("Winch::Fail (retry: 0)", {"class" => "Winch::Fail", "retry" => 0},
  5.times.map { |i| ["ArgumentError", "straight to the dead set #{i}"] })
bulk.call("Winch::Fail (retry: false)", {"class" => "Winch::Fail", "retry" => false},
  5.times.map { |i| ["RuntimeError", "dropped #{i}"] })
bulk.call("Winch::Echo (in 3-5 s)", {"class" => "Winch::Echo", "at" => 30.times.map { |i| now + 3 + i / 15.0 }},
  30.times.map { |i| ["demo_replies", "scheduled-#{i}"] })

# ActiveJob jobs through Rails' Sidekiq adapter.
20.times do |i|
  Winch::Echo.set(queue: aj_queue).perform_later("demo_aj_replies", i, sym_key: "v", kw: i)
end
counts["Winch::Echo (ActiveJob)"] += 20
5.times do |i|
  Winch::Fail.set(queue: aj_queue).perform_later("DemoAjError", "ActiveJob failure #{i}")
end
counts["Winch::Fail (ActiveJob)"] += 5
5.times do |i|
  Winch::Echo.set(queue: aj_queue, wait: 4).perform_later("demo_aj_replies", "scheduled-#{i}")
end
counts["Winch::Echo (ActiveJob, in 4 s)"] += 5

total = counts.values.sum
width = counts.keys.map(&:size).max
puts "Enqueued #{total} jobs into #{url}:"
counts.each { |label, n| puts format("  %-*s %4d", width, label, n) }
stats = Sidekiq::Stats.new
puts "Queues: #{Sidekiq::Stats::Queues.new.lengths.inspect}; scheduled: #{stats.scheduled_size}"

expected = {
  "total" => total,
  "processed" => total,
  "failed" => 10 + 5 + 5 + 5,
  "retry" => 10 + 5,
  "dead" => 5,
  "scheduled" => 0,
  "replies" => {"demo_replies" => 80, "demo_aj_replies" => 25},
  "queues" => ["default", aj_queue].uniq
}
File.write(expect_file, JSON.pretty_generate(expected)) if expect_file
