# The Ruby stand-ins' Winch::Fail raises an error of the class its args name: this finds
# that class, defining it (a StandardError, in modules as the name says) when it is missing.
module WinchErrorClass
  module_function

  def lookup(name)
    parts = name.to_s.split("::").reject(&:empty?)
    raise ArgumentError, "empty error class name" if parts.empty?

    scope = Object
    parts.each_with_index do |part, i|
      last = i == parts.size - 1
      scope = if scope.const_defined?(part, false)
        scope.const_get(part, false)
      elsif last
        scope.const_set(part, Class.new(StandardError))
      else
        scope.const_set(part, Module.new)
      end
    end
    unless scope.is_a?(Class) && scope <= Exception
      raise TypeError, "#{name} is not an exception class"
    end
    scope
  end
end
