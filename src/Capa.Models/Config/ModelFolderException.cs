namespace Capa.Models.Config;

/// <summary>A model folder is missing a file, holds an unreadable one, or describes an unsupported model.</summary>
public sealed class ModelFolderException : Exception
{
    /// <summary>Creates the exception with a message that names the folder and what is wrong with it.</summary>
    public ModelFolderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public ModelFolderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public ModelFolderException()
    {
    }
}
