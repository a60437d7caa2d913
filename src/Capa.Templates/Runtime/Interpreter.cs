using System.Text;
using Capa.Templates.Syntax;

namespace Capa.Templates.Runtime;

/// <summary>
/// Walks the syntax tree and writes the output. One instance renders one template call; the tree itself is shared
/// and never changed, so a parsed template renders concurrently from many threads.
/// </summary>
internal sealed class Interpreter
{
    private const int MaxDepth = 400;
    private const int MaxOutputChars = 64 * 1024 * 1024;
    private const long MaxLoopIterations = 1_000_000;

    private readonly SourceMap _map;
    private readonly int _maxOutput;
    private int _depth;
    private long _iterations;

    public Interpreter(SourceMap map, TimeProvider clock, int? maxOutputChars = null)
    {
        _map = map;
        Clock = clock;
        _maxOutput = maxOutputChars is { } max ? Math.Min(max, MaxOutputChars) : MaxOutputChars;
        OutputLimited = maxOutputChars is not null;
    }

    /// <summary>Whether the caller bounded the output (passing it is then <see cref="TemplateErrorKind.OutputLimit"/>).</summary>
    private bool OutputLimited { get; }

    public TimeProvider Clock { get; }

    public string Render(Node[] program, IReadOnlyDictionary<string, object?> variables)
    {
        var globals = new Scope(null);
        Globals.Register(globals);
        var scope = new Scope(globals);
        foreach (KeyValuePair<string, object?> pair in variables)
        {
            scope.Set(pair.Key, ValueConverter.FromObject(pair.Value));
        }

        var output = new StringBuilder();
        try
        {
            ExecuteBlock(program, scope, output);
        }
        catch (LoopControl control)
        {
            throw new TemplateException(
                $"'{{% {(control.IsBreak ? "break" : "continue")} %}}' used outside of a loop", TemplateErrorKind.Runtime, null, null);
        }

        return output.ToString();
    }

    // ---- statements -------------------------------------------------------------------------------------

    public void ExecuteBlock(Node[] nodes, Scope scope, StringBuilder output)
    {
        foreach (Node node in nodes)
        {
            Execute(node, scope, output);
        }

        CheckLength(output, 0);
    }

    private void Execute(Node node, Scope scope, StringBuilder output)
    {
        try
        {
            ExecuteCore(node, scope, output);
        }
        catch (TemplateRuntimeError error)
        {
            // Errors raised by a statement itself (not by one of its expressions) take the statement's position.
            throw _map.Error(TemplateErrorKind.Runtime, error.Message, node.Offset);
        }
    }

    private void ExecuteCore(Node node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case TextNode text:
                CheckLength(output, text.Text.Length);
                output.Append(text.Text);
                return;
            case OutputNode print:
                Append(output, Evaluate(print.Expression, scope));
                return;
            case IfNode ifNode:
                ExecuteBlock(Evaluate(ifNode.Test, scope).IsTruthy ? ifNode.Body : ifNode.Alternate, scope, output);
                return;
            case ForNode forNode:
                ExecuteFor(forNode, scope, output);
                return;
            case SetNode set:
                ExecuteSet(set, scope);
                return;
            case MacroNode macro:
                scope.Set(macro.Name, MakeMacro(macro.Name, macro.Parameters, macro.Body, definitionScope: null));
                return;
            case CallBlockNode call:
                ExecuteCallBlock(call, scope, output);
                return;
            case FilterBlockNode filter:
            {
                var body = new StringBuilder();
                ExecuteBlock(filter.Body, scope, body);
                Arguments arguments = filter.Arguments is null ? Arguments.None : EvaluateArguments(filter.Arguments, scope);
                Append(output, Filters.Apply(this, new StringValue(body.ToString()), filter.Filter, arguments, scope, filter.Offset));
                return;
            }

            case BreakNode:
                throw new LoopControl(isBreak: true);
            case ContinueNode:
                throw new LoopControl(isBreak: false);
            default:
                throw new TemplateRuntimeError($"Cannot execute a {node.GetType().Name}");
        }
    }

    /// <summary>Writes a value as <c>{{ }}</c> does: none and undefined write nothing.</summary>
    private void Append(StringBuilder output, Value value)
    {
        if (value is not NoneValue and not UndefinedValue)
        {
            string text = Formatting.ToOutput(value);
            CheckLength(output, text.Length);
            output.Append(text);
        }
    }

    // Checked before text is appended, so a bounded render never copies text it would refuse.
    private void CheckLength(StringBuilder output, int adding)
    {
        if ((long)output.Length + adding > _maxOutput)
        {
            throw OutputLimited
                ? new TemplateException($"The rendered template is longer than the {_maxOutput} characters allowed", TemplateErrorKind.OutputLimit, null, null)
                : new TemplateException($"The rendered template is longer than {MaxOutputChars} characters", TemplateErrorKind.Runtime, null, null);
        }
    }

    private void ExecuteFor(ForNode node, Scope parent, StringBuilder output)
    {
        var scope = new Scope(parent);
        Value iterable = Evaluate(node.Iterable, scope);
        List<Value> source = iterable switch
        {
            ListValue list => list.Items,
            DictValue dict => [.. dict.Entries.Keys.Select(k => (Value)new StringValue(k))],
            StringValue s => [.. TextRules.CodePoints(s.Value).Select(c => (Value)new StringValue(c))],
            UndefinedValue => [],
            _ => throw new TemplateRuntimeError($"Cannot loop over a {iterable.TypeName}"),
        };

        List<Value> items = source;
        if (node.Condition is not null)
        {
            items = [];
            foreach (Value item in source)
            {
                var testScope = new Scope(scope);
                BindTarget(node.Target, item, testScope);
                if (Evaluate(node.Condition, testScope).IsTruthy)
                {
                    items.Add(item);
                }
            }
        }
        else
        {
            // Iterate over a snapshot: the body may append to the list it walks.
            items = [.. source];
        }

        bool completedAny = false;
        int count = items.Count;
        for (int i = 0; i < count; i++)
        {
            // A template from a model folder must not keep a request busy forever.
            if (++_iterations > MaxLoopIterations)
            {
                throw new TemplateRuntimeError($"The template ran more than {MaxLoopIterations} loop iterations");
            }

            scope.Set("loop", MakeLoop(items, i));
            BindTarget(node.Target, items[i], scope);
            int mark = output.Length;
            try
            {
                ExecuteBlock(node.Body, scope, output);
            }
            catch (LoopControl control)
            {
                // The reference renderer drops the output of an iteration left by break or continue.
                output.Length = mark;
                if (control.IsBreak)
                {
                    break;
                }

                continue;
            }

            completedAny = true;
        }

        if (!completedAny)
        {
            ExecuteBlock(node.ElseBody, scope, output);
        }
    }

    private static DictValue MakeLoop(List<Value> items, int i)
    {
        int count = items.Count;
        var loop = new DictValue();
        loop.Entries["index"] = IntValue.Of(i + 1);
        loop.Entries["index0"] = IntValue.Of(i);
        loop.Entries["revindex"] = IntValue.Of(count - i);
        loop.Entries["revindex0"] = IntValue.Of(count - i - 1);
        loop.Entries["first"] = BoolValue.Of(i == 0);
        loop.Entries["last"] = BoolValue.Of(i == count - 1);
        loop.Entries["length"] = IntValue.Of(count);
        loop.Entries["previtem"] = i > 0 ? items[i - 1] : UndefinedValue.Instance;
        loop.Entries["nextitem"] = i < count - 1 ? items[i + 1] : UndefinedValue.Instance;
        loop.Entries["cycle"] = new FunctionValue("cycle", (args, _) =>
            args.Positional.Count == 0
                ? throw new TemplateRuntimeError("loop.cycle() needs at least one value")
                : args.Positional[i % args.Positional.Count]);
        return loop;
    }

    private static void BindTarget(Expr target, Value value, Scope scope)
    {
        if (target is IdentifierExpr identifier)
        {
            scope.Set(identifier.Name, value);
            return;
        }

        var tuple = (TupleExpr)target;
        if (value is not ListValue list)
        {
            throw new TemplateRuntimeError($"Cannot unpack a {value.TypeName} into {tuple.Items.Length} names");
        }

        if (list.Items.Count != tuple.Items.Length)
        {
            throw new TemplateRuntimeError(
                $"Too {(tuple.Items.Length > list.Items.Count ? "few" : "many")} values to unpack (expected {tuple.Items.Length}, got {list.Items.Count})");
        }

        for (int i = 0; i < tuple.Items.Length; i++)
        {
            scope.Set(((IdentifierExpr)tuple.Items[i]).Name, list.Items[i]);
        }
    }

    private void ExecuteSet(SetNode node, Scope scope)
    {
        Value value;
        if (node.Value is not null)
        {
            value = Evaluate(node.Value, scope);
        }
        else
        {
            var body = new StringBuilder();
            ExecuteBlock(node.Body, scope, body);
            value = new StringValue(body.ToString());
        }

        switch (node.Target)
        {
            case IdentifierExpr or TupleExpr:
                BindTarget(node.Target, value, scope);
                return;
            case MemberExpr { Property: IdentifierExpr property } member:
            {
                Value target = Evaluate(member.Target, scope);
                if (target is not NamespaceValue ns)
                {
                    throw new TemplateRuntimeError(
                        $"Cannot assign attribute '{property.Name}' on a {target.TypeName}; only namespace() objects take assignments");
                }

                ns.Entries[property.Name] = value;
                return;
            }

            default:
                throw new TemplateRuntimeError("Cannot assign to this expression");
        }
    }

    private FunctionValue MakeMacro(string name, Expr[] parameters, Node[] body, Scope? definitionScope) =>
        new(name, (args, site) =>
        {
            // Like the reference renderer, a macro sees the variables of the scope it is called from.
            var scope = new Scope(definitionScope ?? site.Scope);
            BindParameters(name, parameters, args, scope);
            var output = new StringBuilder();
            Enter(site.Offset);
            try
            {
                ExecuteBlock(body, scope, output);
            }
            finally
            {
                _depth--;
            }

            return new StringValue(output.ToString());
        });

    private void BindParameters(string name, Expr[] parameters, Arguments args, Scope scope)
    {
        var keywords = new OrderedDictionary<string, Value>(args.Keywords, StringComparer.Ordinal);
        var pendingDefaults = new List<KeywordArgExpr>();
        for (int i = 0; i < parameters.Length; i++)
        {
            (string parameter, KeywordArgExpr? withDefault) = parameters[i] switch
            {
                IdentifierExpr id => (id.Name, (KeywordArgExpr?)null),
                KeywordArgExpr kw => (kw.Name, kw),
                _ => throw new TemplateRuntimeError($"Invalid parameter in macro '{name}'"),
            };

            Value? value = i < args.Positional.Count ? args.Positional[i] : null;
            if (value is null && keywords.Remove(parameter, out Value? keyword))
            {
                value = keyword;
            }

            if (value is null && withDefault is not null)
            {
                pendingDefaults.Add(withDefault);
            }

            scope.Set(parameter, value ?? UndefinedValue.Instance);
        }

        scope.Set("varargs", new ListValue([.. args.Positional.Skip(parameters.Length)]));
        scope.Set("kwargs", new DictValue(keywords));
        foreach (KeywordArgExpr withDefault in pendingDefaults)
        {
            scope.Set(withDefault.Name, Evaluate(withDefault.Value, scope));
        }
    }

    private void ExecuteCallBlock(CallBlockNode node, Scope scope, StringBuilder output)
    {
        FunctionValue caller = MakeMacro("caller", node.CallerParameters, node.Body, definitionScope: scope);
        Value callee = Evaluate(node.Call.Callee, scope);
        if (callee is not FunctionValue function)
        {
            throw new TemplateRuntimeError($"'{((IdentifierExpr)node.Call.Callee).Name}' is not a macro");
        }

        Arguments arguments = EvaluateArguments(node.Call.Arguments, scope);
        var callScope = new Scope(scope);
        callScope.Set("caller", caller);
        Append(output, function.Invoke(arguments, new CallSite(this, callScope, node.Offset)));
    }

    // ---- expressions ------------------------------------------------------------------------------------

    private void Enter(int offset)
    {
        if (++_depth > MaxDepth)
        {
            _depth = 0;
            throw _map.Error(TemplateErrorKind.Runtime, "The template nests or recurses too deeply", offset);
        }
    }

    public Value Evaluate(Expr expr, Scope scope)
    {
        Enter(expr.Offset);
        try
        {
            return EvaluateCore(expr, scope);
        }
        catch (TemplateRuntimeError error)
        {
            throw _map.Error(TemplateErrorKind.Runtime, error.Message, expr.Offset);
        }
        catch (RaisedByTemplateError raised)
        {
            (int line, int column) = _map.Locate(expr.Offset);
            throw new TemplateException(raised.Message, TemplateErrorKind.Raised, line, column);
        }
        finally
        {
            _depth--;
        }
    }

    private Value EvaluateCore(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case IdentifierExpr identifier:
                return scope.Lookup(identifier.Name);
            case ListExpr list:
                return new ListValue([.. list.Items.Select(i => Evaluate(i, scope))]);
            case TupleExpr tuple:
                return new ListValue([.. tuple.Items.Select(i => Evaluate(i, scope))], isTuple: true);
            case DictExpr dict:
            {
                var result = new DictValue();
                foreach ((Expr keyExpr, Expr valueExpr) in dict.Entries)
                {
                    Value key = Evaluate(keyExpr, scope);
                    if (key is not StringValue keyString)
                    {
                        throw new TemplateRuntimeError($"Mapping keys must be strings, got a {key.TypeName}");
                    }

                    result.Entries[keyString.Value] = Evaluate(valueExpr, scope);
                }

                return result;
            }

            case MemberExpr member:
                return EvaluateMember(member, scope);
            case CallExpr call:
                return EvaluateCall(call, scope);
            case BinaryExpr binary:
                return EvaluateBinary(binary, scope);
            case UnaryExpr unary:
                return EvaluateUnary(unary, scope);
            case FilterExpr filter:
            {
                Value operand = Evaluate(filter.Operand, scope);
                Arguments arguments = filter.Arguments is null ? Arguments.None : EvaluateArguments(filter.Arguments, scope);
                return Filters.Apply(this, operand, filter.Name, arguments, scope, filter.Offset);
            }

            case TestExpr test:
            {
                Value operand = Evaluate(test.Operand, scope);
                Arguments arguments = EvaluateArguments(test.Arguments, scope);
                bool result = Tests.Run(test.Name, operand, arguments);
                return BoolValue.Of(test.Negate ? !result : result);
            }

            case SelectExpr select:
                return Evaluate(select.Condition, scope).IsTruthy ? Evaluate(select.Value, scope) : UndefinedValue.Instance;
            case TernaryExpr ternary:
                return Evaluate(ternary.Condition, scope).IsTruthy
                    ? Evaluate(ternary.WhenTrue, scope)
                    : Evaluate(ternary.WhenFalse, scope);
            case KeywordArgExpr or SpreadExpr or KeywordSpreadExpr:
                throw new TemplateRuntimeError("Keyword arguments and unpacking are only allowed in calls");
            case SliceExpr:
                throw new TemplateRuntimeError("A slice is only allowed inside []");
            default:
                throw new TemplateRuntimeError($"Cannot evaluate a {expr.GetType().Name}");
        }
    }

    public Arguments EvaluateArguments(Expr[] expressions, Scope scope)
    {
        if (expressions.Length == 0)
        {
            return Arguments.None;
        }

        var positional = new List<Value>(expressions.Length);
        var keywords = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        foreach (Expr expression in expressions)
        {
            if (expression is SpreadExpr spread)
            {
                Value value = Evaluate(spread.Value, scope);
                if (value is not ListValue list)
                {
                    throw new TemplateRuntimeError($"Cannot unpack a {value.TypeName} with '*'");
                }

                positional.AddRange(list.Items);
            }
            else if (expression is not KeywordArgExpr and not KeywordSpreadExpr)
            {
                positional.Add(Evaluate(expression, scope));
            }
        }

        foreach (Expr expression in expressions)
        {
            if (expression is KeywordArgExpr keyword)
            {
                if (!keywords.TryAdd(keyword.Name, Evaluate(keyword.Value, scope)))
                {
                    throw new TemplateRuntimeError($"Got multiple values for keyword argument '{keyword.Name}'");
                }
            }
            else if (expression is KeywordSpreadExpr keywordSpread)
            {
                Value value = Evaluate(keywordSpread.Value, scope);
                if (value is not DictValue dict)
                {
                    throw new TemplateRuntimeError($"The argument after ** must be a mapping, not a {value.TypeName}");
                }

                foreach (KeyValuePair<string, Value> pair in dict.Entries)
                {
                    if (!keywords.TryAdd(pair.Key, pair.Value))
                    {
                        throw new TemplateRuntimeError($"Got multiple values for keyword argument '{pair.Key}'");
                    }
                }
            }
        }

        return new Arguments(positional, keywords);
    }

    private Value EvaluateCall(CallExpr call, Scope scope)
    {
        Value callee = Evaluate(call.Callee, scope);
        if (callee is not FunctionValue function)
        {
            string what = call.Callee switch
            {
                IdentifierExpr id when callee is UndefinedValue => $"'{id.Name}' is undefined",
                IdentifierExpr id => $"'{id.Name}' is a {callee.TypeName}, not a function",
                MemberExpr { Computed: false, Property: IdentifierExpr property } when callee is UndefinedValue =>
                    $"There is no method or attribute '{property.Name}' to call here",
                _ => $"A {callee.TypeName} is not callable",
            };
            throw new TemplateRuntimeError(what);
        }

        Arguments arguments = EvaluateArguments(call.Arguments, scope);
        return function.Invoke(arguments, new CallSite(this, scope, call.Offset));
    }

    private Value EvaluateMember(MemberExpr member, Scope scope)
    {
        Value target = Evaluate(member.Target, scope);
        if (member.Property is SliceExpr slice)
        {
            return EvaluateSlice(target, slice, scope);
        }

        Value property = member.Computed
            ? Evaluate(member.Property, scope)
            : member.Property is IdentifierExpr name ? new StringValue(name.Name) : ((LiteralExpr)member.Property).Value;
        return Members.Get(target, property);
    }

    private Value EvaluateSlice(Value target, SliceExpr slice, Scope scope)
    {
        long? Bound(Expr? e)
        {
            if (e is null)
            {
                return null;
            }

            return Evaluate(e, scope) switch
            {
                IntValue i => i.Value,
                NoneValue or UndefinedValue => null,
                Value other => throw new TemplateRuntimeError($"Slice indices must be integers, got a {other.TypeName}"),
            };
        }

        long? start = Bound(slice.Start), stop = Bound(slice.Stop), step = Bound(slice.Step);
        switch (target)
        {
            case ListValue list:
                return new ListValue(Slice(list.Items, start, stop, step));
            case StringValue s when step is null or 1 && !TextRules.HasSurrogates(s.Value):
            {
                // Without surrogate pairs, code points are chars: slice the string directly.
                var (from, to) = SliceBounds(s.Value.Length, start, stop);
                return new StringValue(to > from ? s.Value[from..to] : string.Empty);
            }

            case StringValue s:
                return new StringValue(string.Concat(Slice(TextRules.CodePoints(s.Value), start, stop, step)));
            default:
                throw new TemplateRuntimeError($"Cannot slice a {target.TypeName}");
        }
    }

    private static (int From, int To) SliceBounds(int length, long? start, long? stop)
    {
        long from = start is long a ? (a < 0 ? Math.Max(length + a, 0) : Math.Min(a, length)) : 0;
        long to = stop is long b ? (b < 0 ? Math.Max(length + b, 0) : Math.Min(b, length)) : length;
        return ((int)from, (int)to);
    }

    /// <summary>Python slicing semantics.</summary>
    public static List<T> Slice<T>(List<T> items, long? startArg, long? stopArg, long? stepArg)
    {
        long step = stepArg ?? 1;
        if (step == 0)
        {
            throw new TemplateRuntimeError("Slice step cannot be zero");
        }

        long length = items.Count;
        long start, stop;
        if (step > 0)
        {
            start = startArg is long a ? (a < 0 ? Math.Max(length + a, 0) : Math.Min(a, length)) : 0;
            stop = stopArg is long b ? (b < 0 ? Math.Max(length + b, 0) : Math.Min(b, length)) : length;
        }
        else
        {
            start = startArg is long a ? (a < 0 ? Math.Max(length + a, -1) : Math.Min(a, length - 1)) : length - 1;
            stop = stopArg is long b ? (b < 0 ? Math.Max(length + b, -1) : Math.Min(b, length - 1)) : -1;
        }

        var result = new List<T>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(items[(int)i]);
        }

        return result;
    }

    private Value EvaluateUnary(UnaryExpr unary, Scope scope)
    {
        Value operand = Evaluate(unary.Operand, scope);
        return unary.Operator switch
        {
            "not" => BoolValue.Of(!operand.IsTruthy),
            "-" => operand switch
            {
                IntValue i => IntValue.Of(-i.Value),
                FloatValue f => new FloatValue(-f.Value),
                BoolValue b => IntValue.Of(b.Value ? -1 : 0),
                _ => throw new TemplateRuntimeError($"Bad operand for unary '-': a {operand.TypeName}"),
            },
            "+" => operand switch
            {
                IntValue or FloatValue => operand,
                BoolValue b => IntValue.Of(b.Value ? 1 : 0),
                _ => throw new TemplateRuntimeError($"Bad operand for unary '+': a {operand.TypeName}"),
            },
            _ => throw new TemplateRuntimeError($"Unknown operator '{unary.Operator}'"),
        };
    }

    private Value EvaluateBinary(BinaryExpr binary, Scope scope)
    {
        Value left = Evaluate(binary.Left, scope);
        switch (binary.Operator)
        {
            case "and":
                return left.IsTruthy ? Evaluate(binary.Right, scope) : left;
            case "or":
                return left.IsTruthy ? left : Evaluate(binary.Right, scope);
        }

        Value right = Evaluate(binary.Right, scope);
        return Operators.Binary(binary.Operator, left, right);
    }
}
