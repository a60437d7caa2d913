using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>The author of a chat message, as OpenAI's <c>role</c> field names it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChatRole>))]
public enum ChatRole
{
    /// <summary><c>system</c>: instructions from the application.</summary>
    [JsonStringEnumMemberName("system")] System,

    /// <summary><c>developer</c>: instructions from the application (newer name for system).</summary>
    [JsonStringEnumMemberName("developer")] Developer,

    /// <summary><c>user</c>: the end user.</summary>
    [JsonStringEnumMemberName("user")] User,

    /// <summary><c>assistant</c>: the model.</summary>
    [JsonStringEnumMemberName("assistant")] Assistant,

    /// <summary><c>tool</c>: the result of a tool call.</summary>
    [JsonStringEnumMemberName("tool")] Tool,

    /// <summary><c>function</c>: the result of a deprecated function call.</summary>
    [JsonStringEnumMemberName("function")] Function,
}
