namespace Capa.Templates.Syntax;

internal enum TokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

/// <summary>One token; <see cref="Offset"/> is its start in the preprocessed text.</summary>
internal sealed class Token(TokenType type, string value, int offset)
{
    public TokenType Type { get; } = type;

    public string Value { get; set; } = value;

    public int Offset { get; } = offset;

    public override string ToString() => Type switch
    {
        TokenType.Text => "text",
        TokenType.StringLiteral => $"string '{Value}'",
        _ => $"'{Value}'",
    };
}
