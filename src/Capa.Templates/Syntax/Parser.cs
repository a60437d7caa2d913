using System.Globalization;
using Capa.Templates.Runtime;

namespace Capa.Templates.Syntax;

/// <summary>
/// Builds the syntax tree from tokens by recursive descent. Precedence, lowest first: ternary, <c>or</c>, <c>and</c>,
/// <c>not</c>, comparisons and membership, <c>+ - ~</c>, <c>* / // %</c>, <c>**</c>, tests (<c>is</c>), filters
/// (<c>|</c>), unary sign, calls and member access — the grammar @huggingface/jinja implements.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> TestArgumentStoppers = new(StringComparer.Ordinal)
    {
        "and", "or", "not", "in", "is", "if", "else",
    };

    private readonly List<Token> _tokens;
    private readonly SourceMap _map;
    private readonly int _end;
    private int _current;

    private Parser(List<Token> tokens, SourceMap map, int end)
    {
        _tokens = tokens;
        _map = map;
        _end = end;
    }

    public static Node[] Parse(List<Token> tokens, SourceMap map, int textLength)
    {
        var parser = new Parser(tokens, map, textLength);
        var body = new List<Node>();
        while (parser._current < tokens.Count)
        {
            Node? node = parser.ParseAny();
            if (node is not null)
            {
                body.Add(node);
            }
        }

        return [.. body];
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private TemplateException Error(string message, Token? at = null) =>
        _map.Error(TemplateErrorKind.Syntax, message, at?.Offset ?? (_current < _tokens.Count ? _tokens[_current].Offset : _end));

    private Token? Peek(int ahead = 0) => _current + ahead < _tokens.Count ? _tokens[_current + ahead] : null;

    private bool Is(TokenType type) => Peek()?.Type == type;

    private bool IsIdentifier(string name) => Peek() is { Type: TokenType.Identifier } t && t.Value == name;

    private bool IsIdentifiers(string first, string second) =>
        IsIdentifier(first) && Peek(1) is { Type: TokenType.Identifier } t && t.Value == second;

    private bool IsStatement(params string[] names) =>
        Peek() is { Type: TokenType.OpenStatement } && Peek(1) is { Type: TokenType.Identifier } t && names.Contains(t.Value);

    private Token Next(string what)
    {
        Token? token = Peek() ?? throw Error($"Unexpected end of template, expected {what}");
        _current++;
        return token;
    }

    private Token Expect(TokenType type, string what)
    {
        Token? token = Peek();
        if (token is null)
        {
            throw Error($"Unexpected end of template, expected {what}");
        }

        if (token.Type != type)
        {
            throw Error($"Expected {what}, got {token}", token);
        }

        _current++;
        return token;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            Token? token = Peek();
            throw Error(token is null ? $"Unexpected end of template, expected '{name}'" : $"Expected '{name}', got {token}", token);
        }

        _current++;
    }

    private void ExpectEnd(string keyword, Token opening)
    {
        if (_current >= _tokens.Count)
        {
            throw Error($"Unexpected end of template: '{{% {keyword} %}}' is missing for the block opened here", opening);
        }

        Expect(TokenType.OpenStatement, $"'{{% {keyword} %}}'");
        ExpectIdentifier(keyword);
        Expect(TokenType.CloseStatement, "'%}'");
    }

    private Node[] ParseUntil(Token opening, string blockName, params string[] stops)
    {
        var body = new List<Node>();
        while (!IsStatement(stops))
        {
            if (_current >= _tokens.Count)
            {
                throw Error(
                    $"Unexpected end of template: the '{blockName}' block opened here is not closed ('{{% {stops[^1]} %}}')",
                    opening);
            }

            if (Peek() is { Type: TokenType.OpenStatement } && Peek(1) is { Type: TokenType.Identifier } keyword && IsBlockKeyword(keyword.Value))
            {
                throw Error($"Unexpected '{{% {keyword.Value} %}}': the '{blockName}' block opened at line {_map.Locate(opening.Offset).Line} needs '{{% {stops[^1]} %}}' first", keyword);
            }

            Node? node = ParseAny();
            if (node is not null)
            {
                body.Add(node);
            }
        }

        return [.. body];
    }

    private static bool IsBlockKeyword(string name) =>
        name is "else" or "elif" || (name.StartsWith("end", StringComparison.Ordinal) && name != "endgeneration");

    // ---- statements -------------------------------------------------------------------------------------

    private Node? ParseAny()
    {
        Token token = _tokens[_current];
        switch (token.Type)
        {
            case TokenType.Comment:
                _current++;
                return null;
            case TokenType.Text:
                _current++;
                return new TextNode(token.Offset, token.Value);
            case TokenType.OpenStatement:
                return ParseStatement();
            case TokenType.OpenExpression:
                _current++;
                Expr expression = ParseExpression();
                Expect(TokenType.CloseExpression, "'}}'");
                return new OutputNode(token.Offset, expression);
            default:
                throw Error($"Unexpected {token}", token);
        }
    }

    private Node? ParseStatement()
    {
        Token open = Expect(TokenType.OpenStatement, "'{%'");
        Token? nameToken = Peek();
        if (nameToken is null || nameToken.Type != TokenType.Identifier)
        {
            throw Error(nameToken is null ? "Unexpected end of template after '{%'" : $"Expected a statement name, got {nameToken}", nameToken);
        }

        _current++;
        switch (nameToken.Value)
        {
            case "set":
                return ParseSet(open);
            case "if":
            {
                IfNode node = ParseIf(open);
                ExpectEnd("endif", open);
                return node;
            }

            case "for":
            {
                ForNode node = ParseFor(open);
                ExpectEnd("endfor", open);
                return node;
            }

            case "macro":
            {
                MacroNode node = ParseMacro(open);
                ExpectEnd("endmacro", open);
                return node;
            }

            case "call":
                return ParseCallBlock(open);
            case "filter":
                return ParseFilterBlock(open);
            case "break":
                Expect(TokenType.CloseStatement, "'%}'");
                return new BreakNode(open.Offset);
            case "continue":
                Expect(TokenType.CloseStatement, "'%}'");
                return new ContinueNode(open.Offset);
            case "generation":
            case "endgeneration":
                // transformers' marker for assistant masks: it renders nothing.
                Expect(TokenType.CloseStatement, "'%}'");
                return null;
            default:
                throw Error(
                    IsBlockKeyword(nameToken.Value)
                        ? $"Unexpected '{{% {nameToken.Value} %}}' with no open block it could close"
                        : $"Unknown statement '{nameToken.Value}'",
                    nameToken);
        }
    }

    private SetNode ParseSet(Token open)
    {
        Expr target = ParseExpressionSequence(primary: false);
        ValidateAssignTarget(target);
        if (Is(TokenType.Equals))
        {
            _current++;
            Expr value = ParseExpressionSequence(primary: false);
            Expect(TokenType.CloseStatement, "'%}'");
            return new SetNode(open.Offset, target, value, []);
        }

        Expect(TokenType.CloseStatement, "'=' or '%}'");
        Node[] body = ParseUntil(open, "set", "endset");
        ExpectEnd("endset", open);
        return new SetNode(open.Offset, target, null, body);
    }

    private void ValidateAssignTarget(Expr target)
    {
        switch (target)
        {
            case IdentifierExpr:
                return;
            case MemberExpr { Computed: false, Property: IdentifierExpr }:
                return;
            case TupleExpr tuple when tuple.Items.All(i => i is IdentifierExpr):
                return;
            default:
                throw _map.Error(TemplateErrorKind.Syntax, "Cannot assign to this expression", target.Offset);
        }
    }

    private IfNode ParseIf(Token open)
    {
        Expr test = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        Node[] body = ParseUntil(open, "if", "elif", "else", "endif");
        Node[] alternate = [];
        if (IsStatement("elif"))
        {
            Token elifOpen = _tokens[_current];
            _current += 2;
            alternate = [ParseIf(elifOpen)];
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            alternate = ParseUntil(open, "if", "endif");
        }

        return new IfNode(open.Offset, test, body, alternate);
    }

    private ForNode ParseFor(Token open)
    {
        Expr target = ParseExpressionSequence(primary: true);
        if (target is not IdentifierExpr && !(target is TupleExpr t && t.Items.All(i => i is IdentifierExpr)))
        {
            throw _map.Error(TemplateErrorKind.Syntax, "Expected a name or names for the loop variable", target.Offset);
        }

        ExpectIdentifier("in");
        Expr iterable = ParseExpression();
        Expr? condition = null;
        if (iterable is SelectExpr select)
        {
            iterable = select.Value;
            condition = select.Condition;
        }

        Expect(TokenType.CloseStatement, "'%}'");
        Node[] body = ParseUntil(open, "for", "else", "endfor");
        Node[] elseBody = [];
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            elseBody = ParseUntil(open, "for", "endfor");
        }

        return new ForNode(open.Offset, target, iterable, condition, body, elseBody);
    }

    private MacroNode ParseMacro(Token open)
    {
        Token name = Expect(TokenType.Identifier, "a macro name");
        Expr[] parameters = ParseArguments(parameters: true);
        Expect(TokenType.CloseStatement, "'%}'");
        Node[] body = ParseUntil(open, "macro", "endmacro");
        return new MacroNode(open.Offset, name.Value, parameters, body);
    }

    private CallBlockNode ParseCallBlock(Token open)
    {
        Expr[] callerParameters = Is(TokenType.OpenParen) ? ParseArguments(parameters: true) : [];
        Token calleeToken = Expect(TokenType.Identifier, "the name of the macro to call");
        Expr[] arguments = ParseArguments(parameters: false);
        Expect(TokenType.CloseStatement, "'%}'");
        Node[] body = ParseUntil(open, "call", "endcall");
        ExpectEnd("endcall", open);
        var call = new CallExpr(calleeToken.Offset, new IdentifierExpr(calleeToken.Offset, calleeToken.Value), arguments);
        return new CallBlockNode(open.Offset, call, callerParameters, body);
    }

    private FilterBlockNode ParseFilterBlock(Token open)
    {
        Token name = Expect(TokenType.Identifier, "a filter name");
        Expr[]? arguments = Is(TokenType.OpenParen) ? ParseArguments(parameters: false) : null;
        Expect(TokenType.CloseStatement, "'%}'");
        Node[] body = ParseUntil(open, "filter", "endfilter");
        ExpectEnd("endfilter", open);
        return new FilterBlockNode(open.Offset, name.Value, arguments, body);
    }

    // ---- expressions ------------------------------------------------------------------------------------

    private Expr ParseExpressionSequence(bool primary)
    {
        Token? first = Peek();
        Expr expression = primary ? ParsePrimary() : ParseExpression();
        if (!Is(TokenType.Comma))
        {
            return expression;
        }

        var items = new List<Expr> { expression };
        while (Is(TokenType.Comma))
        {
            _current++;
            items.Add(primary ? ParsePrimary() : ParseExpression());
        }

        return new TupleExpr(first?.Offset ?? _end, [.. items]);
    }

    private Expr ParseExpression() => ParseIfExpression();

    private Expr ParseIfExpression()
    {
        Expr value = ParseOr();
        if (!IsIdentifier("if"))
        {
            return value;
        }

        _current++;
        Expr condition = ParseOr();
        if (IsIdentifier("else"))
        {
            _current++;
            Expr whenFalse = ParseIfExpression();
            return new TernaryExpr(value.Offset, condition, value, whenFalse);
        }

        return new SelectExpr(value.Offset, value, condition);
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        while (IsIdentifier("or"))
        {
            _current++;
            left = new BinaryExpr(left.Offset, "or", left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        while (IsIdentifier("and"))
        {
            _current++;
            left = new BinaryExpr(left.Offset, "and", left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (IsIdentifier("not"))
        {
            Token op = _tokens[_current++];
            return new UnaryExpr(op.Offset, "not", ParseNot());
        }

        return ParseComparison();
    }

    private Expr ParseComparison()
    {
        Expr left = ParseAdditive();
        while (true)
        {
            string op;
            if (IsIdentifiers("not", "in"))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                _current++;
            }
            else if (Is(TokenType.ComparisonBinaryOperator))
            {
                op = _tokens[_current++].Value;
            }
            else
            {
                return left;
            }

            left = new BinaryExpr(left.Offset, op, left, ParseAdditive());
        }
    }

    private Expr ParseAdditive()
    {
        Expr left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            string op = _tokens[_current++].Value;
            left = new BinaryExpr(left.Offset, op, left, ParseMultiplicative());
        }

        return left;
    }

    private Expr ParseMultiplicative()
    {
        Expr left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            string op = _tokens[_current++].Value;
            left = new BinaryExpr(left.Offset, op, left, ParsePower());
        }

        return left;
    }

    private Expr ParsePower()
    {
        // Jinja's ** is left-associative.
        Expr left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            _current++;
            left = new BinaryExpr(left.Offset, "**", left, ParseTest());
        }

        return left;
    }

    private Expr ParseTest()
    {
        Expr operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            _current++;
            bool negate = IsIdentifier("not");
            if (negate)
            {
                _current++;
            }

            Token name = Next("a test name");
            if (name.Type != TokenType.Identifier)
            {
                throw Error($"Expected a test name after 'is', got {name}", name);
            }

            Expr[] arguments = [];
            if (Is(TokenType.OpenParen))
            {
                arguments = ParseArguments(parameters: false);
            }
            else if (Peek() is { } next && (next.Type is TokenType.NumericLiteral or TokenType.StringLiteral
                || (next.Type == TokenType.Identifier && !TestArgumentStoppers.Contains(next.Value))))
            {
                // Jinja's "x is divisibleby 3" / "x is sameas none" form: one argument without parentheses.
                arguments = [ParsePrimary()];
            }

            operand = new TestExpr(operand.Offset, operand, negate, name.Value, arguments);
        }

        return operand;
    }

    private Expr ParseFilter()
    {
        Expr operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            _current++;
            Token name = Next("a filter name");
            if (name.Type != TokenType.Identifier)
            {
                throw Error($"Expected a filter name after '|', got {name}", name);
            }

            Expr[]? arguments = Is(TokenType.OpenParen) ? ParseArguments(parameters: false) : null;
            operand = new FilterExpr(name.Offset, operand, name.Value, arguments);
        }

        return operand;
    }

    private Expr ParseUnarySign()
    {
        if (Peek() is { Type: TokenType.UnaryOperator or TokenType.AdditiveBinaryOperator } token && token.Value is "-" or "+")
        {
            _current++;
            return new UnaryExpr(token.Offset, token.Value, ParseUnarySign());
        }

        return ParseCallMember();
    }

    private Expr ParseCallMember()
    {
        Expr expression = ParseMember(ParsePrimary());
        while (Is(TokenType.OpenParen))
        {
            expression = new CallExpr(expression.Offset, expression, ParseArguments(parameters: false));
            expression = ParseMember(expression);
        }

        return expression;
    }

    private Expr ParseMember(Expr target)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            Token op = _tokens[_current++];
            if (op.Type == TokenType.OpenSquareBracket)
            {
                Expr property = ParseSubscript(op);
                Expect(TokenType.CloseSquareBracket, "']'");
                target = new MemberExpr(target.Offset, target, property, computed: true);
            }
            else
            {
                Token name = Next("an attribute name");
                Expr property = name.Type switch
                {
                    TokenType.Identifier => new IdentifierExpr(name.Offset, name.Value),
                    TokenType.NumericLiteral when !name.Value.Contains('.') && !name.Value.StartsWith('-') =>
                        new LiteralExpr(name.Offset, IntValue.Of(long.Parse(name.Value, CultureInfo.InvariantCulture))),
                    _ => throw Error($"Expected an attribute name after '.', got {name}", name),
                };
                target = new MemberExpr(target.Offset, target, property, computed: false);
            }
        }

        return target;
    }

    private Expr ParseSubscript(Token open)
    {
        var parts = new List<Expr?>();
        bool isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (_current >= _tokens.Count)
            {
                throw Error("Unexpected end of template, expected ']'", open);
            }

            if (Is(TokenType.Colon))
            {
                parts.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                parts.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }

        if (parts.Count == 0)
        {
            throw Error("Expected an index, key or slice between '[' and ']'", open);
        }

        if (!isSlice)
        {
            return parts[0]!;
        }

        if (parts.Count > 3)
        {
            throw Error("A slice takes at most three parts (start:stop:step)", open);
        }

        return new SliceExpr(open.Offset, parts[0], parts.Count > 1 ? parts[1] : null, parts.Count > 2 ? parts[2] : null);
    }

    private Expr[] ParseArguments(bool parameters)
    {
        Token open = Expect(TokenType.OpenParen, "'('");
        var arguments = new List<Expr>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool sawKeyword = false;
        bool sawSpread = false;
        while (!Is(TokenType.CloseParen))
        {
            if (_current >= _tokens.Count)
            {
                throw Error("Unexpected end of template, expected ')'", open);
            }

            Token start = _tokens[_current];
            bool keywordSpread = start.Type == TokenType.ExponentiationBinaryOperator;
            bool spread = start.Type == TokenType.MultiplicativeBinaryOperator && start.Value == "*";
            if (parameters && (keywordSpread || spread))
            {
                throw Error("Argument unpacking is not allowed in parameter declarations", start);
            }

            if (keywordSpread)
            {
                _current++;
                arguments.Add(new KeywordSpreadExpr(start.Offset, ParseExpression()));
                if (Is(TokenType.Comma))
                {
                    _current++;
                }

                if (!Is(TokenType.CloseParen))
                {
                    throw Error("'**' must be applied to the last argument");
                }

                break;
            }

            Expr argument;
            if (spread)
            {
                if (sawSpread)
                {
                    throw Error("Only one '*' argument unpacking is allowed", start);
                }

                sawSpread = true;
                _current++;
                argument = new SpreadExpr(start.Offset, ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    _current++;
                    if (argument is not IdentifierExpr identifier)
                    {
                        throw _map.Error(TemplateErrorKind.Syntax,
                            parameters ? "Expected a parameter name before '='" : "Expected an argument name before '='", argument.Offset);
                    }

                    argument = new KeywordArgExpr(argument.Offset, identifier.Name, ParseExpression());
                }

                if (parameters)
                {
                    string name = argument switch
                    {
                        IdentifierExpr id => id.Name,
                        KeywordArgExpr kw => kw.Name,
                        _ => throw _map.Error(TemplateErrorKind.Syntax, "Expected a parameter name", argument.Offset),
                    };
                    if (!names.Add(name))
                    {
                        throw _map.Error(TemplateErrorKind.Syntax, $"Duplicate parameter name '{name}'", argument.Offset);
                    }
                }

                if (argument is KeywordArgExpr)
                {
                    sawKeyword = true;
                }
                else if (sawKeyword)
                {
                    throw _map.Error(TemplateErrorKind.Syntax,
                        parameters ? "A parameter without a default follows one with a default" : "Positional arguments must come before keyword arguments",
                        argument.Offset);
                }
                else if (sawSpread)
                {
                    throw _map.Error(TemplateErrorKind.Syntax, "Positional arguments must not follow '*' unpacking", argument.Offset);
                }
            }

            arguments.Add(argument);
            if (Is(TokenType.Comma))
            {
                _current++;
            }
            else if (!Is(TokenType.CloseParen))
            {
                Token? bad = Peek();
                throw Error(bad is null ? "Unexpected end of template, expected ')'" : $"Expected ',' or ')', got {bad}", bad);
            }
        }

        Expect(TokenType.CloseParen, "')'");
        return [.. arguments];
    }

    private Expr ParsePrimary()
    {
        Token token = Next("an expression");
        switch (token.Type)
        {
            case TokenType.NumericLiteral:
                return new LiteralExpr(token.Offset, ParseNumber(token));
            case TokenType.StringLiteral:
            {
                // Adjacent string literals concatenate, as in Python.
                string value = token.Value;
                while (Is(TokenType.StringLiteral))
                {
                    value += _tokens[_current++].Value;
                }

                return new LiteralExpr(token.Offset, new StringValue(value));
            }

            case TokenType.Identifier:
                return new IdentifierExpr(token.Offset, token.Value);
            case TokenType.OpenParen:
            {
                Expr expression = ParseExpressionSequence(primary: false);
                Expect(TokenType.CloseParen, "')'");
                return expression;
            }

            case TokenType.OpenSquareBracket:
            {
                var items = new List<Expr>();
                while (!Is(TokenType.CloseSquareBracket))
                {
                    if (_current >= _tokens.Count)
                    {
                        throw Error("Unexpected end of template, expected ']'", token);
                    }

                    items.Add(ParseExpression());
                    if (Is(TokenType.Comma))
                    {
                        _current++;
                    }
                    else if (!Is(TokenType.CloseSquareBracket))
                    {
                        throw Error($"Expected ',' or ']' in a list, got {Peek()}");
                    }
                }

                _current++;
                return new ListExpr(token.Offset, [.. items]);
            }

            case TokenType.OpenCurlyBracket:
            {
                var entries = new List<(Expr, Expr)>();
                while (!Is(TokenType.CloseCurlyBracket))
                {
                    if (_current >= _tokens.Count)
                    {
                        throw Error("Unexpected end of template, expected '}'", token);
                    }

                    Expr key = ParseExpression();
                    Expect(TokenType.Colon, "':' between a key and its value");
                    Expr value = ParseExpression();
                    entries.Add((key, value));
                    if (Is(TokenType.Comma))
                    {
                        _current++;
                    }
                    else if (!Is(TokenType.CloseCurlyBracket))
                    {
                        throw Error($"Expected ',' or '}}' in a mapping, got {Peek()}");
                    }
                }

                _current++;
                return new DictExpr(token.Offset, [.. entries]);
            }

            default:
                throw Error($"Unexpected {token}", token);
        }
    }

    private Value ParseNumber(Token token)
    {
        string text = token.Value;
        if (text.Contains('.'))
        {
            return new FloatValue(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            ? IntValue.Of(value)
            : throw Error($"Integer literal {text} is out of range", token);
    }
}
