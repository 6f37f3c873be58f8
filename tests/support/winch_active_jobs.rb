# Ruby stand-ins for winch's built-in handlers, as ActiveJob jobs (Rails' Sidekiq adapter).
# winch dispatches an ActiveJob payload by its "wrapped" class and hands the handler the
# ActiveJob arguments resolved as Rails would (markers removed, a GlobalID as its URI string,
# _aj_serialized objects as they are). These stand-ins give their replies in exactly that
# form, so a test sees the same reply from Ruby and from winch.
# Never load this file together with winch_jobs.rb: the class names are the same.

require "logger"
require "active_job"
require "sidekiq"
require "digest"
require_relative "error_class"

ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)
GlobalID.app = "winch"

module Winch
  # A stand-in model for GlobalID arguments: gid://winch/Winch::TestUser/<id>.
  class TestUser
    include GlobalID::Identification

    attr_reader :id

    def self.find(id)
      new(id)
    end

    def initialize(id)
      @id = id
    end
  end

  module AjStandIn
    module_function

    NATIVE = [NilClass, TrueClass, FalseClass, Integer, Float, String].freeze

    # An ActiveJob argument in the form winch hands it to a handler.
    def plain(arg)
      case arg
      when *NATIVE then arg
      when Array then arg.map { |a| plain(a) }
      when Hash then arg.each_with_object({}) { |(k, v), h| h[k.to_s] = plain(v) }
      else
        if arg.respond_to?(:to_global_id)
          arg.to_global_id.to_s
        else
          ActiveJob::Serializers.serialize(arg)
        end
      end
    end

    def reply(queue, jid, rest)
      Sidekiq::Client.push("class" => "Winch::EchoReply", "queue" => queue,
        "args" => [jid, *plain(rest)])
    end

    # The exception class named +name+ (tests/support/error_class.rb).
    def error_class(name)
      WinchErrorClass.lookup(name)
    end
  end

  class Noop < ActiveJob::Base
    def perform(*)
    end
  end

  # The jid a winch handler sees is the Sidekiq jid, which Rails hands the job as
  # provider_job_id.
  class Echo < ActiveJob::Base
    def perform(reply_queue, *rest)
      AjStandIn.reply(reply_queue, provider_job_id, rest)
    end
  end

  class Fail < ActiveJob::Base
    def perform(error_class, message)
      raise AjStandIn.error_class(error_class), message
    end
  end

  class Sleep < ActiveJob::Base
    def perform(ms, reply_queue = nil, *rest)
      sleep(ms / 1000.0)
      AjStandIn.reply(reply_queue, provider_job_id, rest) unless reply_queue.nil?
    end
  end

  class Digest < ActiveJob::Base
    def perform(data, rounds)
      d = data
      rounds.times { d = ::Digest::SHA256.hexdigest(d) }
      d
    end
  end
end
