package listener.analysis;

import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.pt.PortugueseAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Drops Portuguese stop words, the default set of Lucene's PortugueseAnalyzer. Expects lowercase tokens. */
@NamedComponent("listener_stop_pt")
public final class PortugueseStopFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new StopFilter(input, PortugueseAnalyzer.getDefaultStopSet());
    }
}
